import { Order, OrderRefund, type OrderPayment } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import {
  createOrganizerFixture, createTestApp, getPage, login, placeManualOrder, postForm, postFromPage, type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
let browserB: Browser;
const scripted = new ScriptedProvider({ identifier: 'scripted', refund: true, partialRefund: true });

beforeAll(async () => {
  t = await createTestApp({}, {}, [scripted]);
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
  browserB = await login(t, b.email, b.password);
});
afterAll(async () => t.close());

/** An order paid through the scripted provider (automatic refunds), confirmed. */
async function placePaidScriptedOrder(f: OrganizerFixture) {
  const placed = await t.core.orders.placeOrder({ eventId: f.event.id, email: 'card@example.test', positions: [{ productId: f.product.id }], provider: 'scripted' });
  await t.core.payments.executePayment(placed.payment!.id, {});
  return { order: placed.order, payment: placed.payment! };
}

const statusOf = async (orderId: string) => (await t.db.dataSource.getRepository(Order).findOneByOrFail({ id: orderId })).status;
const refundsOf = (orderId: string) => t.db.dataSource.getRepository(OrderRefund).find({ where: { orderId }, order: { localId: 'ASC' } });

describe('order list', () => {
  it('searches by code and email and filters by status and provider, only within the organizer', async () => {
    const mine = await placeManualOrder(t, a, 'findme@example.test');
    const theirs = await placeManualOrder(t, b, 'findme@example.test');
    const byEmail = await getPage(t, browserA, '/control/orders?q=findme');
    expect(byEmail.statusCode).toBe(200);
    expect(byEmail.body).toContain(mine.order.code);
    expect(byEmail.body).not.toContain(theirs.order.code);
    const byCode = await getPage(t, browserA, `/control/orders?q=${mine.order.code}`);
    expect(byCode.body).toContain(`/control/orders/${mine.order.id}`);
    const paid = await getPage(t, browserA, '/control/orders?status=paid&q=findme');
    expect(paid.body).not.toContain(mine.order.code);
    const manual = await getPage(t, browserA, '/control/orders?provider=manual&q=findme');
    expect(manual.body).toContain(mine.order.code);
    const card = await getPage(t, browserA, '/control/orders?provider=scripted&q=findme');
    expect(card.body).not.toContain(mine.order.code);
  });

  it('paginates 25 orders per page', async () => {
    for (let i = 0; i < 26; i++) await placeManualOrder(t, a, `page${i}@paging.test`);
    const first = await getPage(t, browserA, '/control/orders?q=paging.test');
    const second = await getPage(t, browserA, '/control/orders?q=paging.test&page=2');
    const rows = (html: string) => (html.match(/href="\/control\/orders\/[0-9a-f-]{36}"/g) ?? []).length;
    expect(rows(first.body)).toBe(25);
    expect(rows(second.body)).toBe(1);
    expect(first.body).toContain('Page 1 of 2');
    expect(first.body).toContain('page=2');
  });

  it('refuses an unknown filter value naming the field', async () => {
    const res = await getPage(t, browserA, '/control/orders?status=lost');
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('status');
  });
});

describe('order actions', () => {
  it('marks a manual payment paid, and the order page shows positions, payment, provider partial and log', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const before = await getPage(t, browserA, `/control/orders/${order.id}`);
    expect(before.statusCode).toBe(200);
    expect(before.body).toContain(`${order.code}-P-1`);
    expect(before.body).toContain('Mark as paid');
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/payments/${payment.id}/confirm`);
    expect(res.statusCode).toBe(303);
    expect(await statusOf(order.id)).toBe('paid');
    const after = await getPage(t, browserA, `/control/orders/${order.id}`);
    expect(after.body).toContain('Payment confirmed: the order is paid.');
    expect(after.body).toContain('kassa.order.payment.confirmed');
    expect(after.body).toContain('Manual payment, received');
  });

  it('refunds part of a manual payment from the proposal, then marks the manual refund done', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    await t.core.payments.manualConfirm(payment.id, { actor: { type: 'system' } });
    const form = await getPage(t, browserA, `/control/orders/${order.id}/refund?amount=10.00`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain(`name="amount_${payment.id}" inputmode="decimal" value="10.00"`);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/refund`, { [`amount_${payment.id}`]: '10.00', [`manual_${payment.id}`]: 'on', comment: 'goodwill' });
    expect(res.statusCode).toBe(303);
    const [refund] = await refundsOf(order.id);
    expect(refund).toMatchObject({ amount: 1000, provider: 'manual', state: 'created', comment: 'goodwill' });
    // An open manual refund counts at once: 10.00 of 25.00 is owed again, so the order is pending (pretix).
    expect(await statusOf(order.id)).toBe('pending');
    const done = await postFromPage(t, browserA, `/control/orders/${order.id}/refunds/${refund!.id}/done`);
    expect(done.statusCode).toBe(303);
    expect((await refundsOf(order.id))[0]!.state).toBe('done');
    expect(await statusOf(order.id)).toBe('pending');
  });

  it('refunds automatically over two payments, as the proposal splits it', async () => {
    const placed = await t.core.orders.placeOrder({ eventId: a.event.id, email: 'split@example.test', positions: [{ productId: a.product.id }], provider: 'scripted' });
    const p1 = await t.core.payments.createPayment(placed.order.id, { provider: 'scripted', amount: { amount: 1000, currency: 'EUR' } });
    await t.core.payments.executePayment(p1.id, {});
    const p2 = await t.core.payments.createPayment(placed.order.id, { provider: 'scripted', amount: { amount: 1500, currency: 'EUR' } });
    await t.core.payments.executePayment(p2.id, {});
    const form = await getPage(t, browserA, `/control/orders/${placed.order.id}/refund?amount=20.00`);
    const proposed = (id: string) => new RegExp(`name="amount_${id}" inputmode="decimal" value="([0-9.]+)"`).exec(form.body)?.[1];
    const split = { [p1.id]: proposed(p1.id), [p2.id]: proposed(p2.id) };
    expect(Number(split[p1.id]) + Number(split[p2.id])).toBe(20);
    const res = await postFromPage(t, browserA, `/control/orders/${placed.order.id}/refund`, { [`amount_${p1.id}`]: split[p1.id]!, [`amount_${p2.id}`]: split[p2.id]! });
    expect(res.statusCode).toBe(303);
    const refunds = await refundsOf(placed.order.id);
    expect(refunds.map((r) => r.state)).toEqual(['done', 'done']);
    expect(refunds.reduce((s, r) => s + r.amount, 0)).toBe(2000);
  });

  it('refuses a refund above what a payment has left, beside the field, and writes nothing', async () => {
    const { order, payment } = await placePaidScriptedOrder(a);
    const before = await snapshotRows(t.db.dataSource);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/refund`, { [`amount_${payment.id}`]: '999.00' });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('exceeds the 25.00 still refundable');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    const bad = await postFromPage(t, browserA, `/control/orders/${order.id}/refund`, { [`amount_${payment.id}`]: '1.2345' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Cannot read &quot;1.2345&quot; as an amount in EUR');
  });

  it('retries a failed refund as a new attempt', async () => {
    const { order, payment } = await placePaidScriptedOrder(a);
    scripted.refundOutcomes.push({ kind: 'failed', message: 'insufficient balance' });
    await postFromPage(t, browserA, `/control/orders/${order.id}/refund`, { [`amount_${payment.id}`]: '5.00' });
    const [failed] = await refundsOf(order.id);
    expect(failed!.state).toBe('failed');
    const page = await getPage(t, browserA, `/control/orders/${order.id}`);
    expect(page.body).toContain(`/refunds/${failed!.id}/retry`);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/refunds/${failed!.id}/retry`);
    expect(res.statusCode).toBe(303);
    const refunds = await refundsOf(order.id);
    expect(refunds.map((r) => [r.state, r.amount])).toEqual([['failed', 500], ['done', 500]]);
  });

  it('refuses to retry a refund that did not fail, naming the refund and its state, and moves nothing', async () => {
    const { order, payment } = await placePaidScriptedOrder(a);
    await postFromPage(t, browserA, `/control/orders/${order.id}/refund`, { [`amount_${payment.id}`]: '5.00' });
    const [done] = await refundsOf(order.id);
    expect(done!.state).toBe('done');
    const before = await snapshotRows(t.db.dataSource);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/refunds/${done!.id}/retry`, { lastKnownRefundId: done!.id });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain(`Refund ${order.code}-R-${done!.localId} cannot be retried: it is done`);
    expect(res.body).not.toContain('cannot go from');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it('lists an external refund under its filter and lets the organizer set the order back to pending', async () => {
    const { order, payment } = await placePaidScriptedOrder(a);
    const { refund } = await t.core.refunds.createExternalRefund(payment.id, { externalId: `re_ext_${order.id}` });
    const list = await getPage(t, browserA, '/control/orders?externalRefund=1');
    expect(list.body).toContain(order.code);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/refunds/${refund.id}/process`, { action: 'pending' });
    expect(res.statusCode).toBe(303);
    expect(await statusOf(order.id)).toBe('pending');
    expect((await refundsOf(order.id))[0]!.state).toBe('done');
  });

  it('cancels an order keeping a cancellation fee, refunding the rest automatically', async () => {
    const { order } = await placePaidScriptedOrder(a);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/cancel`, { cancellationFee: '5.00', autoRefund: 'on' });
    expect(res.statusCode).toBe(303);
    const refunds = await refundsOf(order.id);
    expect(refunds.map((r) => [r.state, r.amount])).toEqual([['done', 2000]]);
  });

  it('extends an expired order', async () => {
    const { order } = await placeManualOrder(t, a);
    await t.db.dataSource.query("UPDATE kassa_order SET expires = now() - interval '1 day' WHERE id = $1", [order.id]);
    await t.core.orders.expireOrders(t.clock.now());
    expect(await statusOf(order.id)).toBe('expired');
    const until = new Date(t.clock.now().getTime() + 3 * 86_400_000).toISOString().slice(0, 16);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/extend`, { expires: until });
    expect(res.statusCode).toBe(303);
    expect(await statusOf(order.id)).toBe('pending');
  });

  it('names the malformed field of an extend form', async () => {
    const { order } = await placeManualOrder(t, a);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/extend`, { expires: 'tomorrow' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('expires');
  });
});

describe('isolation and CSRF', () => {
  let order: Order;
  let payment: OrderPayment;
  let refund: OrderRefund;

  beforeAll(async () => {
    ({ order, payment } = await placePaidScriptedOrder(a));
    ({ refund } = await t.core.refunds.createExternalRefund(payment.id, { externalId: `re_iso_${order.id}` }));
  });

  const actions = () => [
    [`/control/orders/${order.id}/payments/${payment.id}/confirm`, {}],
    [`/control/orders/${order.id}/payments/${payment.id}/cancel`, {}],
    [`/control/orders/${order.id}/refund`, { [`amount_${payment.id}`]: '1.00', lastKnownRefundId: '' }],
    [`/control/orders/${order.id}/refunds/${refund.id}/process`, { action: 'cancel' }],
    [`/control/orders/${order.id}/refunds/${refund.id}/retry`, { lastKnownRefundId: '' }],
    [`/control/orders/${order.id}/refunds/${refund.id}/done`, {}],
    [`/control/orders/${order.id}/cancel`, {}],
    [`/control/orders/${order.id}/extend`, { expires: '2099-01-01T00:00' }],
  ] as const;

  it("answers 404 to another organizer's user on every order page and action, and writes nothing", async () => {
    const before = await snapshotRows(t.db.dataSource);
    for (const url of [`/control/orders/${order.id}`, `/control/orders/${order.id}/refund`]) {
      const res = await getPage(t, browserB, url);
      expect([url, res.statusCode]).toEqual([url, 404]);
      expect(res.body).not.toContain(order.code);
    }
    for (const [url, fields] of actions()) {
      const res = await postForm(t, browserB, url, fields);
      expect([url, res.statusCode]).toEqual([url, 404]);
    }
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it('refuses every order action without a valid CSRF token, and writes nothing', async () => {
    const before = await snapshotRows(t.db.dataSource);
    for (const [url, fields] of actions()) {
      for (const csrf of [null, 'forged-token']) {
        const res = await postForm(t, browserA, url, fields, { csrf });
        expect([url, res.statusCode]).toEqual([url, 403]);
      }
    }
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });
});
