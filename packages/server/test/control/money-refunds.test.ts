import { Event, Order, OrderPayment, OrderRefund } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import {
  createOrganizerFixture, createTestApp, getPage, login, placeManualOrder, postForm, postFromPage, type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

/**
 * Through HTTP (inject): the refund form's and the API's choice of what happens to the order, the
 * organizer's mark-as-paid with force, and the event's last date of payments — each scoped to the
 * organizer (another organizer's order is 404) and, in the control panel, behind CSRF.
 */
let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
const scripted = new ScriptedProvider({ identifier: 'scripted', refund: true, partialRefund: true });

beforeAll(async () => {
  t = await createTestApp({}, {}, [scripted]);
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
});
afterAll(async () => t.close());
// lateWithoutQuota sells the quota out; every test starts with seats again.
afterEach(async () => {
  await t.db.dataSource.query('UPDATE quota SET size = 1000 WHERE event_id = ANY($1::uuid[])', [[a.event.id, b.event.id]]);
});

function api(token: string, method: 'GET' | 'POST', url: string, payload?: unknown) {
  return t.app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
  });
}

/** A 25.00 order paid through the scripted provider (automatic refunds). */
async function paidOrder(f: OrganizerFixture) {
  const placed = await t.core.orders.placeOrder({ eventId: f.event.id, email: 'card@example.test', positions: [{ productId: f.product.id }], provider: 'scripted' });
  await t.core.payments.executePayment(placed.payment!.id, {});
  expect(await statusOf(placed.order.id)).toBe('paid');
  return { order: placed.order, payment: placed.payment! };
}

/** An order whose manual payment arrived after it expired and its seat was sold: confirmed money, expired order. */
async function lateWithoutQuota(f: OrganizerFixture) {
  const { order, payment } = await placeManualOrder(t, f);
  t.clock.advance({ days: 30 });
  await t.core.orders.expireOrders();
  await t.db.dataSource.query('UPDATE quota SET size = (SELECT used FROM quota_usage WHERE quota_id = quota.id) WHERE event_id = $1', [f.event.id]);
  expect((await t.core.payments.manualConfirm(payment.id, { actor: { type: 'user' } })).kind).toBe('quota_exceeded');
  expect(await statusOf(order.id)).toBe('expired');
  return order;
}

const statusOf = async (orderId: string) => (await t.db.dataSource.getRepository(Order).findOneByOrFail({ id: orderId })).status;
const refundsOf = (orderId: string) => t.db.dataSource.getRepository(OrderRefund).find({ where: { orderId }, order: { localId: 'ASC' } });
const refundForm = (orderId: string, paymentId: string, amount: string, extra: Record<string, string> = {}) =>
  postFromPage(t, browserA, `/control/orders/${orderId}/refund`, { [`amount_${paymentId}`]: amount, ...extra });

describe('control panel: refund form, what happens to the order', () => {
  it('by default a refund that leaves money owed sets the paid order back to pending with a new deadline', async () => {
    const { order, payment } = await paidOrder(a);
    const res = await refundForm(order.id, payment.id, '10.00');
    expect(res.statusCode).toBe(303);
    const after = await t.db.dataSource.getRepository(Order).findOneByOrFail({ id: order.id });
    expect(after.status).toBe('pending');
    expect(after.expires.getTime()).toBe(t.clock.now().getTime() + a.event.paymentTermDays * 86_400_000);
    const page = await getPage(t, browserA, res.headers.location as string);
    expect(page.body).toContain('The order is now pending');
  });

  it('offers the three choices on the form', async () => {
    const { order } = await paidOrder(a);
    const page = await getPage(t, browserA, `/control/orders/${order.id}/refund`);
    for (const v of ['pending', 'keep_paid', 'cancel']) expect(page.body).toContain(`name="orderAction" value="${v}"`);
  });

  it('keep paid while money would be owed is refused with the field named, nothing refunded', async () => {
    const { order, payment } = await paidOrder(a);
    const calls = scripted.calls.length;
    const before = await snapshotRows(t.db.dataSource);
    const res = await refundForm(order.id, payment.id, '10.00', { orderAction: 'keep_paid' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/cannot stay paid after this refund: 10\.00 would still be owed/);
    expect(res.body).toContain('name="orderAction" value="keep_paid" checked');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    expect(scripted.calls.length).toBe(calls);
  });

  it('cancel: the order is canceled after the refund', async () => {
    const { order, payment } = await paidOrder(a);
    const res = await refundForm(order.id, payment.id, '25.00', { orderAction: 'cancel' });
    expect(res.statusCode).toBe(303);
    expect(await statusOf(order.id)).toBe('canceled');
    expect((await refundsOf(order.id)).map((r) => r.state)).toEqual(['done']);
  });

  it('an unknown choice is a 400 naming the field; another organizer\'s order is 404; no CSRF is 403 — nothing written', async () => {
    const { order, payment } = await paidOrder(a);
    const theirs = await paidOrder(b);
    const before = await snapshotRows(t.db.dataSource);
    const bad = await refundForm(order.id, payment.id, '1.00', { orderAction: 'refund_everything' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/orderAction/);
    expect((await postForm(t, browserA, `/control/orders/${theirs.order.id}/refund`, { [`amount_${theirs.payment.id}`]: '1.00', lastKnownRefundId: '' })).statusCode).toBe(404);
    const noCsrf = await postForm(t, browserA, `/control/orders/${order.id}/refund`, { [`amount_${payment.id}`]: '1.00' }, { csrf: null });
    expect(noCsrf.statusCode).toBe(403);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });
});

describe('control panel: mark as paid with force', () => {
  it('an expired order whose late payment found no quota: refused without force, paid with force and a warning', async () => {
    const order = await lateWithoutQuota(a);
    const page = await getPage(t, browserA, `/control/orders/${order.id}`);
    expect(page.body).toContain(`action="/control/orders/${order.id}/mark-paid"`);
    expect(page.body).toContain('the quota is overbooked if no ticket is left');
    expect(page.body).toMatch(/Cannot be paid as it is: the tickets are no longer available/);

    const before = await snapshotRows(t.db.dataSource);
    const refused = await postFromPage(t, browserA, `/control/orders/${order.id}/mark-paid`);
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toMatch(/cannot be marked as paid/);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);

    const forced = await postFromPage(t, browserA, `/control/orders/${order.id}/mark-paid`, { force: 'on' });
    expect(forced.statusCode).toBe(303);
    expect(await statusOf(order.id)).toBe('paid');
    const after = await getPage(t, browserA, forced.headers.location as string);
    expect(after.body).toContain('the quota is overbooked');
    expect(after.body).toContain('kassa.order.overbooked');
  });

  it('confirming the open manual payment of an expired order whose seat is gone: money booked, order stays expired and flagged, the page says so', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    t.clock.advance({ days: 30 });
    await t.core.orders.expireOrders();
    await t.db.dataSource.query('UPDATE quota SET size = (SELECT used FROM quota_usage WHERE quota_id = quota.id) WHERE event_id = $1', [a.event.id]);
    const res = await postFromPage(t, browserA, `/control/orders/${order.id}/payments/${payment.id}/confirm`);
    expect(res.statusCode).toBe(303);
    const page = await getPage(t, browserA, res.headers.location as string);
    expect(page.body).toContain('Payment confirmed, but the expired order could not be revived: no quota left.');
    expect((await t.db.dataSource.getRepository(OrderPayment).findOneByOrFail({ id: payment.id })).state).toBe('confirmed');
    expect(await t.core.orders.getSummary(order.id)).toMatchObject({ status: 'expired', isPendingWithFullPayment: true });
    // The flagged order offers the forced mark as paid, with its warning.
    expect(page.body).toContain(`action="/control/orders/${order.id}/mark-paid"`);
    expect(page.body).toContain('kassa.order.quotaexceeded');
  });

  it('another organizer\'s order is 404 and a post without CSRF is 403; nothing changes', async () => {
    const theirs = await lateWithoutQuota(b);
    const mine = await lateWithoutQuota(a);
    expect((await postForm(t, browserA, `/control/orders/${theirs.id}/mark-paid`, { force: 'on' })).statusCode).toBe(404);
    expect((await postForm(t, browserA, `/control/orders/${mine.id}/mark-paid`, { force: 'on' }, { csrf: null })).statusCode).toBe(403);
    expect(await statusOf(theirs.id)).toBe('expired');
    expect(await statusOf(mine.id)).toBe('expired');
  });
});

describe('control panel: the event\'s last date of payments', () => {
  it('is saved beside "accept late payments", shown again, and a bad value names the field', async () => {
    const event = await t.db.dataSource.getRepository(Event).findOneByOrFail({ id: a.event.id });
    const fields = { name: event.name, slug: event.slug, currency: event.currency, paymentTermDays: '14', live: 'on' };
    const edit = await getPage(t, browserA, `/control/events/${event.id}/edit`);
    expect(edit.body).toContain('name="paymentTermAcceptLate"');
    expect(edit.body).toContain('name="paymentTermLast"');
    const saved = await postForm(t, browserA, `/control/events/${event.id}`, { ...fields, paymentTermLast: '2031-06-30T18:00' });
    expect(saved.statusCode).toBe(303);
    const after = await t.db.dataSource.getRepository(Event).findOneByOrFail({ id: event.id });
    expect(after.paymentTermLast?.toISOString()).toBe('2031-06-30T18:00:00.000Z');
    expect(after.paymentTermAcceptLate).toBe(false); // the checkbox was not sent
    expect((await getPage(t, browserA, `/control/events/${event.id}/edit`)).body).toContain('value="2031-06-30T18:00"');
    const bad = await postForm(t, browserA, `/control/events/${event.id}`, { ...fields, paymentTermLast: 'next tuesday' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/paymentTermLast|Last date of payments/);
    await postForm(t, browserA, `/control/events/${event.id}`, { ...fields, paymentTermAcceptLate: 'on', paymentTermLast: '' });
    expect(await t.db.dataSource.getRepository(Event).findOneByOrFail({ id: event.id })).toMatchObject({ paymentTermLast: null, paymentTermAcceptLate: true });
  });
});

describe('REST API', () => {
  it('POST refunds: default pending, keep_paid refused (400, nothing refunded), cancel', async () => {
    const one = await paidOrder(a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${one.order.id}/refunds`, { paymentId: one.payment.id, amount: 500 });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ outcome: 'done', orderStatus: 'pending' });

    const two = await paidOrder(a);
    const before = await snapshotRows(t.db.dataSource);
    const keep = await api(a.token, 'POST', `/api/v1/orders/${two.order.id}/refunds`, { paymentId: two.payment.id, amount: 500, orderAction: 'keep_paid' });
    expect(keep.statusCode).toBe(400);
    expect(keep.json().error).toMatchObject({ code: 'REFUND_ORDER_ACTION_INVALID', params: { field: 'orderAction' } });
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);

    const cancel = await api(a.token, 'POST', `/api/v1/orders/${two.order.id}/refunds`, { paymentId: two.payment.id, amount: 2500, orderAction: 'cancel' });
    expect(cancel.json()).toMatchObject({ refund: { state: 'done' }, orderStatus: 'canceled' });
    const bad = await api(a.token, 'POST', `/api/v1/orders/${one.order.id}/refunds`, { paymentId: one.payment.id, amount: 1, orderAction: 'maybe' });
    expect(bad.statusCode).toBe(400);
  });

  it('POST mark_paid: 409 without force, 200 with force (overbooked), 404 for another organizer, 400 for a bad body', async () => {
    const order = await lateWithoutQuota(a);
    const got = await api(a.token, 'GET', `/api/v1/orders/${order.id}`);
    // Fully paid already: the buyer has nothing to pay (the organizer decides).
    expect(got.json().paymentRefusal).toMatchObject({ code: 'nothing_owed' });

    const refused = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_paid`, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('ORDER_MARK_PAID_REFUSED');
    expect((await api(b.token, 'POST', `/api/v1/orders/${order.id}/mark_paid`, { force: true })).statusCode).toBe(404);
    expect((await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_paid`, { force: 'yes' })).statusCode).toBe(400);
    expect(await statusOf(order.id)).toBe('expired');

    const forced = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_paid`, { force: true });
    expect(forced.statusCode).toBe(200);
    expect(forced.json()).toMatchObject({ overbooked: true, paymentId: null, order: { status: 'paid', paymentRefusal: { code: 'order_paid' } } });
  });

  it('GET events/:id shows the payment terms; another organizer\'s event is 404; the OpenAPI document lists mark_paid', async () => {
    await t.db.dataSource.getRepository(Event).update({ id: b.event.id }, { paymentTermLast: new Date('2031-01-01T00:00:00Z') });
    const ev = await api(b.token, 'GET', `/api/v1/events/${b.event.id}`);
    expect(ev.json()).toMatchObject({ id: b.event.id, paymentTermAcceptLate: true, paymentTermLast: '2031-01-01T00:00:00.000Z' });
    expect((await api(a.token, 'GET', `/api/v1/events/${b.event.id}`)).statusCode).toBe(404);
    const doc = (await t.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    expect(doc.paths['/api/v1/orders/{orderId}/mark_paid'].post.description).toMatch(/force/);
    expect(JSON.stringify(doc.paths['/api/v1/orders/{orderId}/refunds'].post)).toContain('keep_paid');
  });
});
