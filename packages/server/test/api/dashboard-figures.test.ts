import { ScriptedProvider } from '@kassa/testing';
import { createOrganizerFixture, createTestApp, getPage, login, placeManualOrder, type OrganizerFixture, type TestApp } from '../infra/test-app';

/**
 * The dashboard's figures to act on (GET /api/v1/dashboard and the control panel's landing page),
 * each made non-zero by the situation it counts, on an organizer of its own (the figures are
 * organizer-wide); another organizer's situations do not count.
 */
let t: TestApp;
let a: OrganizerFixture;
let other: OrganizerFixture;
const scripted = new ScriptedProvider({ identifier: 'scripted', refund: true, partialRefund: true });

beforeAll(async () => {
  t = await createTestApp({}, {}, [scripted]);
  a = await createOrganizerFixture(t);
  other = await createOrganizerFixture(t);
});
afterAll(async () => t.close());

const api = (token: string, method: 'GET' | 'POST', url: string, payload?: unknown) => t.app.inject({
  method, url, headers: { authorization: `Bearer ${token}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
  payload: payload === undefined ? undefined : JSON.stringify(payload),
});

async function paidScripted(f: OrganizerFixture) {
  const placed = await t.core.orders.placeOrder({ eventId: f.event.id, email: 'fig@example.test', positions: [{ productId: f.product.id }], provider: 'scripted' });
  await t.core.payments.executePayment(placed.payment!.id, {});
  return { order: placed.order, payment: placed.payment! };
}

/** The same situations for an organizer: an open order, an overpaid one, a failed refund, an external refund. */
async function situations(f: OrganizerFixture) {
  await placeManualOrder(t, f, 'open@example.test');
  const over = await placeManualOrder(t, f, 'over@example.test');
  // A second transfer announced while the first was under way; both arrive.
  const second = await api(f.token, 'POST', `/api/v1/orders/${over.order.id}/payments`, { provider: 'manual', amount: 700 });
  expect(second.statusCode).toBe(201);
  expect((await api(f.token, 'POST', `/api/v1/orders/${over.order.id}/payments/${over.payment.id}/confirm`, {})).statusCode).toBe(200);
  expect((await api(f.token, 'POST', `/api/v1/orders/${over.order.id}/payments/${second.json().payment.id}/confirm`, {})).json().result).toBe('order_unchanged');
  const failed = await paidScripted(f);
  scripted.refundOutcomes.push({ kind: 'failed', message: 'card expired' });
  expect((await api(f.token, 'POST', `/api/v1/orders/${failed.order.id}/refunds`, { paymentId: failed.payment.id, amount: 500 })).statusCode).toBe(400);
  const external = await paidScripted(f);
  await t.core.refunds.createExternalRefund(external.payment.id, { externalId: `re_fig_${external.order.id}` });
}

it('counts open amount, overpaid orders, refunds waiting and external refunds waiting, per organizer', async () => {
  await situations(a);
  await situations(other);
  const res = await api(a.token, 'GET', '/api/v1/dashboard');
  expect(res.statusCode).toBe(200);
  // One manual order of 25.00 owed; the overpaid one is paid (and owes 7.00 back); no plans here.
  expect(res.json()).toEqual({ openAmount: [{ currency: 'EUR', amount: 2500 }], overpaidOrders: 1, refundsWaiting: 1, externalRefundsWaiting: 1, failedInstalments: 0 });

  // A retried refund that went through is no longer waiting; a decided external refund neither.
  const [failedRefund] = await t.db.dataSource.query(
    "SELECT r.order_id, r.payment_id FROM order_refund r JOIN kassa_order o ON o.id = r.order_id WHERE o.organizer_id = $1 AND r.state = 'failed'", [a.organizer.id]);
  expect((await api(a.token, 'POST', `/api/v1/orders/${failedRefund.order_id}/refunds`, { paymentId: failedRefund.payment_id, amount: 500 })).statusCode).toBe(201);
  const [ext] = await t.db.dataSource.query(
    "SELECT r.id, r.order_id FROM order_refund r JOIN kassa_order o ON o.id = r.order_id WHERE o.organizer_id = $1 AND r.state = 'external'", [a.organizer.id]);
  expect((await api(a.token, 'POST', `/api/v1/orders/${ext.order_id}/refunds/${ext.id}/process`, { action: 'pending' })).statusCode).toBe(200);
  const after = (await api(a.token, 'GET', '/api/v1/dashboard')).json();
  expect(after).toMatchObject({ overpaidOrders: 1, refundsWaiting: 0, externalRefundsWaiting: 0 });
  // Both refunded orders went back to pending and are owed again (25.00 after the external refund,
  // 5.00 after the partial one): the open amount grows by them.
  expect(after.openAmount).toEqual([{ currency: 'EUR', amount: 2500 + 2500 + 500 }]);

  // The landing page shows the same figures.
  const page = await getPage(t, await login(t, a.email, a.password), '/control');
  expect(page.body).toMatch(/id="fig-open">[^<]*55\.00/);
});
