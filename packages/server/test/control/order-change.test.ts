import { Order, OrderPosition } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import {
  createOrganizerFixture, createTestApp, getPage, login, postForm, type Browser, type OrganizerFixture, type TestApp,
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

/** An order of `count` tickets (25.00 each), paid through the scripted provider when `paid`. */
async function place(f: OrganizerFixture, count: number, paid: boolean) {
  const placed = await t.core.orders.placeOrder({
    eventId: f.event.id, email: 'buyer@example.test', provider: paid ? 'scripted' : 'manual',
    positions: Array.from({ length: count }, () => ({ productId: f.product.id })),
  });
  if (paid) await t.core.payments.executePayment(placed.payment!.id, {});
  const positions = await t.db.dataSource.getRepository(OrderPosition).find({ where: { orderId: placed.order.id }, order: { positionNo: 'ASC' } });
  return { order: placed.order, positions };
}
const orderOf = (id: string) => t.db.dataSource.getRepository(Order).findOneByOrFail({ id });
/** The change form's fingerprint, as the browser got it. */
async function formOf(orderId: string, browser = browserA) {
  const page = await getPage(t, browser, `/control/orders/${orderId}/change`);
  expect(page.statusCode).toBe(200);
  return { page, fingerprint: /name="fingerprint" value="([0-9a-f]+)"/.exec(page.body)![1]! };
}

describe('changing an order in the control panel', () => {
  it('a paid order whose position price grows becomes pending with a new deadline, logged', async () => {
    const { order, positions } = await place(a, 1, true);
    expect((await getPage(t, browserA, `/control/orders/${order.id}`)).body).toContain(`/control/orders/${order.id}/change`);
    const { fingerprint } = await formOf(order.id);
    const res = await postForm(t, browserA, `/control/orders/${order.id}/change`, { fingerprint, [`price_${positions[0]!.id}`]: '30.00' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/control/orders/${order.id}`);
    expect(await orderOf(order.id)).toMatchObject({ status: 'pending', total: 3000 });
    const page = await getPage(t, browserA, `/control/orders/${order.id}`);
    expect(page.body).toContain('the order is pending again: 5.00 EUR to pay');
    expect(page.body).toContain('kassa.order.changed.change_price');
  });

  it('a paid order whose total shrinks lands on the refund proposal for what is owed back', async () => {
    const { order, positions } = await place(a, 2, true);
    const { fingerprint } = await formOf(order.id);
    const res = await postForm(t, browserA, `/control/orders/${order.id}/change`, { fingerprint, [`cancel_${positions[1]!.id}`]: 'on' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/control/orders/${order.id}/refund?amount=25.00`);
    const proposal = await getPage(t, browserA, res.headers.location as string);
    expect(proposal.statusCode).toBe(200);
    expect(proposal.body).toContain('25.00 EUR is owed back');
    expect(proposal.body).toMatch(/name="amount_[0-9a-f-]{36}" inputmode="decimal" value="25.00"/);
    expect(await orderOf(order.id)).toMatchObject({ status: 'paid', total: 2500 });
  });

  it('adds a position and changes a product; refuses a full quota and a replayed form, writing nothing', async () => {
    const { order, positions } = await place(a, 1, false);
    const [vip] = await t.db.dataSource.query(
      `INSERT INTO product (event_id, name, price, active, position) VALUES ($1, 'VIP', 9000, true, 1) RETURNING id`, [a.event.id]) as { id: string }[];
    await t.db.dataSource.query(`INSERT INTO quota (event_id, name, size) VALUES ($1, 'VIP seats', 0)`, [a.event.id]);
    await t.db.dataSource.query(`INSERT INTO quota_product (quota_id, product_id) SELECT id, $2 FROM quota WHERE event_id = $1 AND name = 'VIP seats'`, [a.event.id, vip!.id]);

    const { fingerprint } = await formOf(order.id);
    const before = await snapshotRows(t.db.dataSource);
    const full = await postForm(t, browserA, `/control/orders/${order.id}/change`, { fingerprint, [`product_${positions[0]!.id}`]: vip!.id });
    expect(full.statusCode).toBe(409);
    expect(full.body).toContain('Not enough quota left');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);

    const added = await postForm(t, browserA, `/control/orders/${order.id}/change`, { fingerprint, add_product: a.product.id, add_price: '12.50', add_attendee: 'Grace' });
    expect(added.statusCode).toBe(303);
    expect(await orderOf(order.id)).toMatchObject({ total: 3750, status: 'pending' });
    const afterAdd = await snapshotRows(t.db.dataSource);
    // The same form again (a double click, a reload): refused as stale, nothing added twice.
    const replay = await postForm(t, browserA, `/control/orders/${order.id}/change`, { fingerprint, add_product: a.product.id, add_price: '12.50' });
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('was changed since this change was prepared');
    expect(await snapshotRows(t.db.dataSource)).toEqual(afterAdd);
  });

  it('the same change form submitted three times at once changes the order once', async () => {
    const { order } = await place(a, 1, true);
    const { fingerprint } = await formOf(order.id);
    const fields = { fingerprint, add_product: a.product.id, add_price: '10.00' };
    const answers = await Promise.all([1, 2, 3].map(() => postForm(t, browserA, `/control/orders/${order.id}/change`, fields)));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([303, 409, 409]);
    const live = await t.db.dataSource.getRepository(OrderPosition).countBy({ orderId: order.id, canceled: false });
    expect(live).toBe(2);
    expect(await orderOf(order.id)).toMatchObject({ total: 3500, status: 'pending' });
  });

  it('names the field of a bad price and refuses an empty change', async () => {
    const { order, positions } = await place(a, 1, false);
    const { fingerprint } = await formOf(order.id);
    const before = await snapshotRows(t.db.dataSource);
    const bad = await postForm(t, browserA, `/control/orders/${order.id}/change`, { fingerprint, [`price_${positions[0]!.id}`]: 'lots' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain(`price_${positions[0]!.id}`);
    // A price past what Kassa stores exactly is refused beside the form's own field, as on the product form.
    for (const [field, text] of [[`price_${positions[0]!.id}`, '100000000000.00'], ['add_price', '90071992547409.91']] as const) {
      const fields = field === 'add_price' ? { fingerprint, add_product: a.product.id, add_price: text } : { fingerprint, [field]: text };
      const absurd = await postForm(t, browserA, `/control/orders/${order.id}/change`, fields);
      expect([field, absurd.statusCode]).toEqual([field, 400]);
      expect(absurd.body).toContain(`${field}: ${field} must be at most 9999999999999 minor units`);
    }
    const nothing = await postForm(t, browserA, `/control/orders/${order.id}/change`, { fingerprint });
    expect(nothing.statusCode).toBe(400);
    expect(nothing.body).toContain('Nothing to change');
    const stray = await postForm(t, browserA, `/control/orders/${order.id}/change`, { fingerprint, total: '0' });
    expect(stray.statusCode).toBe(400);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it("answers 404 to another organizer's user and 403 without a valid CSRF token, writing nothing", async () => {
    const { order, positions } = await place(a, 2, false);
    const { fingerprint } = await formOf(order.id);
    const fields = { fingerprint, [`cancel_${positions[0]!.id}`]: 'on' };
    const theirs = await place(b, 1, false);
    const { fingerprint: theirPrint } = await formOf(theirs.order.id, browserB);
    const before = await snapshotRows(t.db.dataSource);
    const page = await getPage(t, browserB, `/control/orders/${order.id}/change`);
    expect(page.statusCode).toBe(404);
    expect(page.body).not.toContain(order.code);
    expect((await postForm(t, browserB, `/control/orders/${order.id}/change`, fields)).statusCode).toBe(404);
    // B's own order with A's position id: core only knows positions of the order in the URL.
    const foreign = await postForm(t, browserB, `/control/orders/${theirs.order.id}/change`, { fingerprint: theirPrint, [`cancel_${positions[0]!.id}`]: 'on' });
    expect(foreign.statusCode).toBe(400);
    for (const csrf of [null, 'forged-token']) {
      expect((await postForm(t, browserA, `/control/orders/${order.id}/change`, fields, { csrf })).statusCode).toBe(403);
    }
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    expect((await t.db.dataSource.getRepository(OrderPosition).findOneByOrFail({ id: positions[0]!.id })).canceled).toBe(false);
  });
});
