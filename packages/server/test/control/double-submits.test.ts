import { KassaError, Order, OrderPayment, OrderRefund, Product, organizerSettings, type PluginRouteHandler } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import {
  createOrganizerFixture, createTestApp, formFieldsOf, getPage, login, placeManualOrder, postForm,
  type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

/*
 * Double and replayed submits of the control panel's money-moving forms, through HTTP: each form
 * carries its page's one-time key (and the refund form the last refund it was built from), so a
 * second submit of the same form, or a form built before a refund made meanwhile, moves nothing.
 */
let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
let browserB: Browser;
const scripted = new ScriptedProvider({ identifier: 'scripted', refund: true, partialRefund: true });
// A plugin's control route declared oneTime: the host guards it like its own actions.
const pluginCalls: string[] = [];
const pluginAct: PluginRouteHandler = async (req) => {
  if ((req.body as { refuse?: string } | undefined)?.refuse === 'yes') throw new KassaError('VALIDATION_FAILED', { field: 'refuse', detail: 'refused on purpose' });
  pluginCalls.push(String(req.params.paymentId));
  return { status: 200, body: { ok: true } };
};

beforeAll(async () => {
  t = await createTestApp({}, {
    pluginRoutes: [{ plugin: 'guarded', route: { method: 'POST', path: '/control/payments/:paymentId/act', kind: 'control', oneTime: { paymentParam: 'paymentId' }, handler: pluginAct as never } }],
  }, [scripted]);
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
  browserB = await login(t, b.email, b.password);
});
afterAll(async () => t.close());

async function paidScriptedOrder(f: OrganizerFixture = a) {
  const placed = await t.core.orders.placeOrder({ eventId: f.event.id, email: 'card@example.test', positions: [{ productId: f.product.id }], provider: 'scripted' });
  await t.core.payments.executePayment(placed.payment!.id, {});
  return { order: placed.order, payment: placed.payment! };
}
const refundsOf = (orderId: string) => t.db.dataSource.getRepository(OrderRefund).find({ where: { orderId }, order: { localId: 'ASC' } });
const refundCalls = () => scripted.calls.filter((c) => c.method === 'executeRefund').length;
const hidden = async (url: string) => formFieldsOf((await getPage(t, browserA, url)).body);
function api(token: string, url: string, payload: unknown) {
  return t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
}

describe('the refund form', () => {
  it('submitted twice refunds once: the second submit is refused and moves nothing', async () => {
    const { order, payment } = await paidScriptedOrder();
    const form = await hidden(`/control/orders/${order.id}/refund`);
    expect(form).toEqual({ _actionKey: expect.stringMatching(/^[0-9a-f-]{36}$/), lastKnownRefundId: '' });
    const fields = { ...form, [`amount_${payment.id}`]: '10.00' };
    const calls = refundCalls();
    const first = await postForm(t, browserA, `/control/orders/${order.id}/refund`, fields);
    expect(first.statusCode).toBe(303);
    const before = await snapshotRows(t.db.dataSource);
    const second = await postForm(t, browserA, `/control/orders/${order.id}/refund`, fields);
    expect(second.statusCode).toBe(409);
    expect(second.body).toContain('already submitted or has expired, so nothing was done again');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    expect((await refundsOf(order.id)).map((r) => [r.amount, r.state])).toEqual([[1000, 'done']]);
    expect(refundCalls() - calls).toBe(1);
  });

  it('submitted twice at the same moment refunds once', async () => {
    const { order, payment } = await paidScriptedOrder();
    const fields = { ...(await hidden(`/control/orders/${order.id}/refund`)), [`amount_${payment.id}`]: '5.00' };
    const answers = await Promise.all([1, 2, 3].map(() => postForm(t, browserA, `/control/orders/${order.id}/refund`, fields)));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([303, 409, 409]);
    expect((await refundsOf(order.id)).map((r) => r.amount)).toEqual([500]);
  });

  it('built before a refund made meanwhile (another tab) is stale: refused, nothing moved, shown again from what is current', async () => {
    const { order, payment } = await paidScriptedOrder();
    const tabA = await hidden(`/control/orders/${order.id}/refund`);
    const tabB = await hidden(`/control/orders/${order.id}/refund`);
    expect((await postForm(t, browserA, `/control/orders/${order.id}/refund`, { ...tabB, [`amount_${payment.id}`]: '10.00' })).statusCode).toBe(303);
    const [made] = await refundsOf(order.id);
    const before = await snapshotRows(t.db.dataSource);
    const stale = await postForm(t, browserA, `/control/orders/${order.id}/refund`, { ...tabA, [`amount_${payment.id}`]: '10.00' });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('changed since this form was loaded');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    // The form shown again is built from the refund that exists now, with a fresh key.
    const again = formFieldsOf(stale.body);
    expect(again.lastKnownRefundId).toBe(made!.id);
    expect(again._actionKey).not.toBe(tabA._actionKey);
    expect((await postForm(t, browserA, `/control/orders/${order.id}/refund`, { ...again, [`amount_${payment.id}`]: '10.00' })).statusCode).toBe(303);
    expect((await refundsOf(order.id)).map((r) => r.amount)).toEqual([1000, 1000]);
  });

  it('is stale too when the refund meanwhile came through the API', async () => {
    const { order, payment } = await paidScriptedOrder();
    const form = await hidden(`/control/orders/${order.id}/refund`);
    expect((await api(a.token, `/api/v1/orders/${order.id}/refunds`, { paymentId: payment.id, amount: 700 })).statusCode).toBe(201);
    const before = await snapshotRows(t.db.dataSource);
    const res = await postForm(t, browserA, `/control/orders/${order.id}/refund`, { ...form, [`amount_${payment.id}`]: '7.00' });
    expect(res.statusCode).toBe(409);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it('refused for its input gives its key back: the corrected form goes through once', async () => {
    const { order, payment } = await paidScriptedOrder();
    const form = await hidden(`/control/orders/${order.id}/refund`);
    const tooMuch = await postForm(t, browserA, `/control/orders/${order.id}/refund`, { ...form, [`amount_${payment.id}`]: '999.00' });
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.body).toContain('exceeds the 25.00 still refundable');
    expect((await postForm(t, browserA, `/control/orders/${order.id}/refund`, { ...form, [`amount_${payment.id}`]: '2.00' })).statusCode).toBe(303);
    expect((await postForm(t, browserA, `/control/orders/${order.id}/refund`, { ...form, [`amount_${payment.id}`]: '2.00' })).statusCode).toBe(409);
    expect((await refundsOf(order.id)).map((r) => r.amount)).toEqual([200]);
  });

  it('without its last known refund is refused, naming the field, and writes nothing', async () => {
    const { order, payment } = await paidScriptedOrder();
    const { _actionKey } = await hidden(`/control/orders/${order.id}/refund`);
    const before = await snapshotRows(t.db.dataSource);
    const res = await postForm(t, browserA, `/control/orders/${order.id}/refund`, { _actionKey: _actionKey!, [`amount_${payment.id}`]: '2.00' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('lastKnownRefundId');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });
});

describe('replays of every guarded action', () => {
  /** Sends an action from its page, then the very same request again: the replay must move nothing. */
  async function actThenReplay(url: string, fields: Record<string, string> = {}) {
    const page = url.endsWith('/refund') ? url : url.replace(/^(\/control\/orders\/[0-9a-f-]{36}).*$/, '$1');
    const sent = { ...(await hidden(page)), ...fields };
    const first = await postForm(t, browserA, url, sent);
    expect([url, first.statusCode]).toEqual([url, 303]);
    const before = await snapshotRows(t.db.dataSource);
    const replay = await postForm(t, browserA, url, sent);
    expect([url, replay.statusCode]).toEqual([url, 409]);
    expect(replay.body).toContain('nothing was done again');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  }

  it('mark paid', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    await actThenReplay(`/control/orders/${order.id}/payments/${payment.id}/confirm`);
  });

  it('cancel a payment', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    await actThenReplay(`/control/orders/${order.id}/payments/${payment.id}/cancel`);
  });

  it('refund', async () => {
    const { order, payment } = await paidScriptedOrder();
    await actThenReplay(`/control/orders/${order.id}/refund`, { [`amount_${payment.id}`]: '3.00' });
  });

  it('decide an external refund', async () => {
    const { order, payment } = await paidScriptedOrder();
    const { refund } = await t.core.refunds.createExternalRefund(payment.id, { externalId: `re_replay_${order.id}` });
    await actThenReplay(`/control/orders/${order.id}/refunds/${refund.id}/process`, { action: 'pending' });
  });

  it('retry a failed refund (the replay would have been a second refund)', async () => {
    const { order, payment } = await paidScriptedOrder();
    scripted.refundOutcomes.push({ kind: 'failed', message: 'insufficient balance' });
    await t.core.refunds.createRefund(order.id, { paymentId: payment.id, amount: { amount: 500, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    const [failed] = await refundsOf(order.id);
    await actThenReplay(`/control/orders/${order.id}/refunds/${failed!.id}/retry`);
    expect((await refundsOf(order.id)).map((r) => r.state)).toEqual(['failed', 'done']);
  });

  it('two tabs retrying the same failed refund: the second is stale and moves nothing', async () => {
    const { order, payment } = await paidScriptedOrder();
    scripted.refundOutcomes.push({ kind: 'failed', message: 'insufficient balance' });
    await t.core.refunds.createRefund(order.id, { paymentId: payment.id, amount: { amount: 500, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    const [failed] = await refundsOf(order.id);
    const [tab1, tab2] = [await hidden(`/control/orders/${order.id}`), await hidden(`/control/orders/${order.id}`)];
    expect((await postForm(t, browserA, `/control/orders/${order.id}/refunds/${failed!.id}/retry`, tab1)).statusCode).toBe(303);
    const before = await snapshotRows(t.db.dataSource);
    const second = await postForm(t, browserA, `/control/orders/${order.id}/refunds/${failed!.id}/retry`, tab2);
    expect(second.statusCode).toBe(409);
    expect(second.body).toContain('changed since this form was loaded');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it('mark a manual refund done', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    await t.core.payments.manualConfirm(payment.id, { actor: { type: 'system' } });
    const { refund } = await t.core.refunds.createRefund(order.id, { paymentId: payment.id, amount: { amount: 500, currency: 'EUR' }, source: 'admin', provider: 'manual', actor: { type: 'system' } });
    await actThenReplay(`/control/orders/${order.id}/refunds/${refund.id}/done`);
  });

  it('cancel an order with a fee', async () => {
    const { order } = await paidScriptedOrder();
    await actThenReplay(`/control/orders/${order.id}/cancel`, { cancellationFee: '5.00', autoRefund: 'on' });
    expect((await refundsOf(order.id)).map((r) => r.amount)).toEqual([2000]);
  });

  it('mark the order paid (with force)', async () => {
    const { order } = await placeManualOrder(t, a);
    await actThenReplay(`/control/orders/${order.id}/mark-paid`, { force: 'on' });
  });

  it('extend an order', async () => {
    const { order } = await placeManualOrder(t, a);
    const until = new Date(t.clock.now().getTime() + 3 * 86_400_000).toISOString().slice(0, 16);
    await actThenReplay(`/control/orders/${order.id}/extend`, { expires: until });
  });

  it("a plugin's oneTime control route: acts once per key, a refusal gives the key back", async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const { _actionKey } = await hidden(`/control/orders/${order.id}`);
    const url = `/plugins/guarded/control/payments/${payment.id}/act`;
    const calls = pluginCalls.length;
    // CSRF first; another organizer's user finds no such payment (and cannot burn the key); a key
    // of another order's page is refused for this payment.
    expect((await postForm(t, browserA, url, { _actionKey: _actionKey! }, { csrf: null })).statusCode).toBe(403);
    expect((await postForm(t, browserB, url, { _actionKey: _actionKey! })).statusCode).toBe(404);
    const otherOrder = await placeManualOrder(t, a);
    const foreignKey = (await hidden(`/control/orders/${otherOrder.order.id}`))._actionKey!;
    expect((await postForm(t, browserA, url, { _actionKey: foreignKey })).statusCode).toBe(409);
    expect((await postForm(t, browserA, url, { _actionKey: _actionKey!, refuse: 'yes' })).statusCode).toBe(400);
    expect((await postForm(t, browserA, url, { _actionKey: _actionKey! })).statusCode).toBe(200);
    expect((await postForm(t, browserA, url, { _actionKey: _actionKey! })).statusCode).toBe(409);
    expect((await postForm(t, browserA, url, {})).statusCode).toBe(409);
    expect(pluginCalls.length - calls).toBe(1);
  });
});

describe('keys belong to their page', () => {
  it('refuses an action without a key, with a made-up key, or with the key of another order; nothing moves', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const other = await placeManualOrder(t, a);
    const url = `/control/orders/${order.id}/payments/${payment.id}/confirm`;
    const before = await snapshotRows(t.db.dataSource);
    const foreign = (await hidden(`/control/orders/${other.order.id}`))._actionKey!;
    const attempts: Record<string, string>[] = [{}, { _actionKey: '00000000-0000-4000-8000-000000000000' }, { _actionKey: 'not-a-key' }, { _actionKey: foreign }];
    for (const fields of attempts) {
      const res = await postForm(t, browserA, url, fields);
      expect([fields, res.statusCode]).toEqual([fields, 409]);
    }
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    // The other order's key was not used up by that attempt.
    expect((await postForm(t, browserA, `/control/orders/${other.order.id}/payments/${other.payment.id}/confirm`, { _actionKey: foreign })).statusCode).toBe(303);
  });

  it("another organizer's user gets 404 with a valid key of their own, and the key stays usable", async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const theirs = await placeManualOrder(t, b);
    const key = formFieldsOf((await getPage(t, browserB, `/control/orders/${theirs.order.id}`)).body)._actionKey!;
    const before = await snapshotRows(t.db.dataSource);
    expect((await postForm(t, browserB, `/control/orders/${order.id}/payments/${payment.id}/confirm`, { _actionKey: key })).statusCode).toBe(404);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    expect((await postForm(t, browserB, `/control/orders/${theirs.order.id}/payments/${theirs.payment.id}/confirm`, { _actionKey: key })).statusCode).toBe(303);
  });
});

describe('parallel confirmations', () => {
  it('from 10 open order pages at once: all are answered (303), the payment is confirmed once', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const keys = await Promise.all(Array.from({ length: 10 }, async () => (await hidden(`/control/orders/${order.id}`))._actionKey!));
    const answers = await Promise.all(keys.map((k) => postForm(t, browserA, `/control/orders/${order.id}/payments/${payment.id}/confirm`, { _actionKey: k })));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(10).fill(303));
    const [row] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.payment.confirmed'`, [order.id]);
    expect(row.n).toBe(1);
  });

  it('20 API confirmations at once: one order_paid, 19 already_confirmed, all 200', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const answers = await Promise.all(Array.from({ length: 20 }, () => api(a.token, `/api/v1/orders/${order.id}/payments/${payment.id}/confirm`, {})));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    const results = answers.map((r) => r.json().result);
    expect(results.filter((r) => r === 'order_paid')).toHaveLength(1);
    expect(results.filter((r) => r === 'already_confirmed')).toHaveLength(19);
    expect(answers.every((r) => r.json().payment.state === 'confirmed')).toBe(true);
  });
});

describe('parallel confirmations through both doors', () => {
  it('5 from the control panel and 5 through the API at once: every one answered as promised, the payment confirmed once', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const keys = await Promise.all(Array.from({ length: 5 }, async () => (await hidden(`/control/orders/${order.id}`))._actionKey!));
    const [panel, rest] = await Promise.all([
      Promise.all(keys.map((k) => postForm(t, browserA, `/control/orders/${order.id}/payments/${payment.id}/confirm`, { _actionKey: k }))),
      Promise.all(Array.from({ length: 5 }, () => api(a.token, `/api/v1/orders/${order.id}/payments/${payment.id}/confirm`, {}))),
    ]);
    expect(panel.map((r) => r.statusCode)).toEqual(Array(5).fill(303));
    expect(rest.map((r) => r.statusCode)).toEqual(Array(5).fill(200));
    expect(rest.every((r) => ['order_paid', 'already_confirmed'].includes(r.json().result))).toBe(true);
    const [row] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.payment.confirmed'`, [order.id]);
    expect(row.n).toBe(1);
    expect((await t.db.dataSource.getRepository(Order).findOneByOrFail({ id: order.id })).status).toBe('paid');
  });
});

describe('API answers', () => {
  it('a refund the gateway refuses answers 400 with its reason; the attempt is kept as failed', async () => {
    const { order, payment } = await paidScriptedOrder();
    scripted.refundOutcomes.push({ kind: 'failed', message: 'charge already disputed' });
    const res = await api(a.token, `/api/v1/orders/${order.id}/refunds`, { paymentId: payment.id, amount: 700 });
    expect(res.statusCode).toBe(400);
    const [refund] = await refundsOf(order.id);
    expect(refund).toMatchObject({ state: 'failed', amount: 700 });
    expect(res.json().error).toMatchObject({
      code: 'REFUND_PROVIDER_REFUSED', message: expect.stringContaining('charge already disputed'),
      params: { provider: 'scripted', refundId: refund!.id, refund: `${order.code}-R-1`, reason: 'charge already disputed' },
    });
    // A gateway that throws is a refusal too.
    scripted.refundOutcomes.push(new Error('card_declined: the bank said no'));
    const thrown = await api(a.token, `/api/v1/orders/${order.id}/refunds`, { paymentId: payment.id, amount: 300 });
    expect(thrown.statusCode).toBe(400);
    expect(thrown.json().error.params.reason).toContain('the bank said no');
    expect((await refundsOf(order.id)).map((r) => r.state)).toEqual(['failed', 'failed']);
  });

  it('a manual confirmation that ends in quota exceeded answers 409 saying so; the payment stays confirmed, the order flagged', async () => {
    const f = await createOrganizerFixture(t);
    await t.db.dataSource.query('UPDATE quota SET size = 1 WHERE id IN (SELECT quota_id FROM quota_product WHERE product_id = $1)', [f.product.id]);
    const { order, payment } = await placeManualOrder(t, f);
    await t.db.dataSource.query("UPDATE kassa_order SET expires = now() - interval '1 day' WHERE id = $1", [order.id]);
    await t.core.orders.expireOrders(t.clock.now());
    await placeManualOrder(t, f); // someone else takes the last seat
    const res = await api(f.token, `/api/v1/orders/${order.id}/payments/${payment.id}/confirm`, {});
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'PAYMENT_CONFIRMED_QUOTA_EXCEEDED', params: { payment: payment.id, code: order.code, paymentState: 'confirmed' } });
    expect(res.json().error.message).toMatch(/could not be marked paid: .*Not enough quota left/);
    expect((await t.db.dataSource.getRepository(OrderPayment).findOneByOrFail({ id: payment.id })).state).toBe('confirmed');
    const summary = await t.core.orders.getSummary(order.id);
    expect(summary).toMatchObject({ status: 'expired', isPendingWithFullPayment: true });
    const [logged] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.quotaexceeded'`, [order.id]);
    expect(logged.n).toBe(1);
    // A repeat is answered as one (the money is recorded already).
    expect((await api(f.token, `/api/v1/orders/${order.id}/payments/${payment.id}/confirm`, {})).json().result).toBe('already_confirmed');
  });
});

describe('money limits where amounts are entered', () => {
  it('refuses an absurd product price beside the field, writing nothing', async () => {
    const before = await t.db.dataSource.getRepository(Product).findOneByOrFail({ id: a.product.id });
    for (const price of ['90071992547409.90', '100000000000.00']) {
      const res = await postForm(t, browserA, `/control/events/${a.event.id}/products/${a.product.id}`, { name: 'Gold', price, active: 'on' });
      expect([price, res.statusCode]).toEqual([price, 400]);
      expect(res.body).toMatch(/class="field has-error"[\s\S]{0,600}price must be at most 9999999999999 minor units/);
    }
    const created = await postForm(t, browserA, `/control/events/${a.event.id}/products`, { name: 'Absurd', price: '99999999999999', active: 'on' });
    expect(created.statusCode).toBe(400);
    expect(await t.db.dataSource.getRepository(Product).findOneByOrFail({ id: a.product.id })).toEqual(before);
    expect(await t.db.dataSource.getRepository(Product).countBy({ name: 'Absurd' })).toBe(0);
    // The largest accepted price still sells.
    expect((await postForm(t, browserA, `/control/events/${a.event.id}/products/${a.product.id}`, { name: 'Gold', price: '99999999999.99', active: 'on' })).statusCode).toBe(303);
    await postForm(t, browserA, `/control/events/${a.event.id}/products/${a.product.id}`, { name: before.name, price: '25.00', active: 'on' });
  });

  it('refuses an absurd fixed payment fee beside the field, writing nothing', async () => {
    const before = await t.db.dataSource.query('SELECT count(*)::int AS n FROM setting');
    const res = await postForm(t, browserA, '/control/settings/payment/manual', { _enabled: 'on', _feeAbs: '10000000000000' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/class="field has-error"[\s\S]{0,800}_feeAbs must be &lt;= 9999999999999/);
    expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM setting')).toEqual(before);
  });

  it('an order whose total would not be exact is refused and written nowhere; the order list keeps working', async () => {
    const f = await createOrganizerFixture(t, { price: Number.MAX_SAFE_INTEGER - 100 }); // stored exactly, as an older price may be
    await t.deps.settings.set(organizerSettings(f.organizer.id), 'payment.manual', { _feeAbs: 500 });
    const organizer = await login(t, f.email, f.password);
    const before = await snapshotRows(t.db.dataSource);
    for (const positions of [[{ productId: f.product.id }, { productId: f.product.id }], [{ productId: f.product.id }]]) {
      const placing = t.core.orders.placeOrder({ eventId: f.event.id, email: 'x@example.test', positions, provider: 'manual' });
      await expect(placing).rejects.toMatchObject({ code: 'ORDER_TOTAL_TOO_LARGE', params: expect.objectContaining({ field: 'positions' }) });
    }
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    expect(await t.db.dataSource.getRepository(Order).countBy({ eventId: f.event.id })).toBe(0);
    expect((await getPage(t, organizer, '/control/orders')).statusCode).toBe(200);
  });
});
