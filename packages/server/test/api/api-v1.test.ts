import { Order, OrderRefund } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import { createOrganizerFixture, createTestApp, placeManualOrder, type OrganizerFixture, type TestApp } from '../infra/test-app';

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
const scripted = new ScriptedProvider({ identifier: 'scripted', refund: true, partialRefund: true });

beforeAll(async () => {
  t = await createTestApp({}, {}, [scripted]);
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
});
afterAll(async () => t.close());

function api(token: string, method: 'GET' | 'POST', url: string, payload?: unknown) {
  return t.app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

async function paidScriptedOrder(f: OrganizerFixture) {
  const placed = await t.core.orders.placeOrder({ eventId: f.event.id, email: 'api@example.test', positions: [{ productId: f.product.id }], provider: 'scripted' });
  await t.core.payments.executePayment(placed.payment!.id, {});
  return { order: placed.order, payment: placed.payment! };
}

const statusOf = async (id: string) => (await t.db.dataSource.getRepository(Order).findOneByOrFail({ id })).status;

describe('authentication', () => {
  it('refuses missing, malformed, unknown and revoked tokens with 401 and the one error body', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/api/v1/orders' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: { code: 'AUTH_TOKEN_INVALID', message: 'The API token is missing, unknown or revoked', params: {} } });
    expect((await api('not-a-token', 'GET', '/api/v1/orders')).statusCode).toBe(401);
    expect((await api('kassa_unknownunknownunknown', 'GET', '/api/v1/orders')).statusCode).toBe(401);
    await t.db.dataSource.query("UPDATE api_token SET active = false WHERE organizer_id = $1", [b.organizer.id]);
    expect((await api(b.token, 'GET', '/api/v1/orders')).statusCode).toBe(401);
    await t.db.dataSource.query("UPDATE api_token SET active = true WHERE organizer_id = $1", [b.organizer.id]);
  });

  it('never uses cookies: a POST needs no CSRF token', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    expect((await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments/${payment.id}/cancel`, {})).statusCode).toBe(200);
  });
});

describe('orders', () => {
  it("lists only the token's organizer's orders, filtered and paginated with a next link", async () => {
    const mine = [await placeManualOrder(t, a, 'list@example.test'), await placeManualOrder(t, a, 'list@example.test'), await placeManualOrder(t, a, 'list@example.test')];
    const theirs = await placeManualOrder(t, b, 'list@example.test');
    const page1 = await api(a.token, 'GET', '/api/v1/orders?q=list@&pageSize=2');
    expect(page1.statusCode).toBe(200);
    const body = page1.json();
    expect(body.count).toBe(3);
    expect(body.results).toHaveLength(2);
    expect(body.next).toBe('http://127.0.0.1:3000/api/v1/orders?q=list%40&pageSize=2&page=2');
    const page2 = (await api(a.token, 'GET', '/api/v1/orders?q=list@&pageSize=2&page=2')).json();
    expect(page2.next).toBeNull();
    const ids = [...body.results, ...page2.results].map((o: { id: string }) => o.id).sort();
    expect(ids).toEqual(mine.map((m) => m.order.id).sort());
    expect(ids).not.toContain(theirs.order.id);
    expect(body.results[0]).toMatchObject({ status: 'pending', total: 2500, currency: 'EUR', pendingSum: 2500 });
    expect((await api(a.token, 'GET', '/api/v1/orders?q=list@&status=paid')).json().count).toBe(0);
  });

  it('retrieves one order with positions, payments and sums', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const res = await api(a.token, 'GET', `/api/v1/orders/${order.id}`);
    expect(res.statusCode).toBe(200);
    const o = res.json();
    expect(o).toMatchObject({ id: order.id, code: order.code, status: 'pending', total: 2500, summary: { pendingSum: 2500, isOverpaid: false } });
    expect(o.positions).toHaveLength(1);
    expect(o.payments).toEqual([expect.objectContaining({ id: payment.id, fullId: `${order.code}-P-1`, state: 'created', provider: 'manual', amount: 2500 })]);
    expect(o).not.toHaveProperty('secret');
  });
});

describe('payments', () => {
  it('confirms a manual payment: the order becomes paid; confirming again is idempotent', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments/${payment.id}/confirm`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ result: 'order_paid', payment: { state: 'confirmed' } });
    expect(await statusOf(order.id)).toBe('paid');
    expect((await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments/${payment.id}/confirm`, {})).json().result).toBe('already_confirmed');
    const list = await api(a.token, 'GET', `/api/v1/orders/${order.id}/payments`);
    expect(list.json().results.map((p: { state: string }) => p.state)).toEqual(['confirmed']);
  });

  it("refuses to confirm a provider's own payment by hand", async () => {
    const placed = await t.core.orders.placeOrder({ eventId: a.event.id, email: 'x@example.test', positions: [{ productId: a.product.id }], provider: 'scripted' });
    const res = await api(a.token, 'POST', `/api/v1/orders/${placed.order.id}/payments/${placed.payment!.id}/confirm`, {});
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('PAYMENT_CONFIRM_NOT_ALLOWED');
  });
});

describe('refunds', () => {
  it('refunds part of a card payment automatically and lists it', async () => {
    const { order, payment } = await paidScriptedOrder(a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/refunds`, { paymentId: payment.id, amount: 700, comment: 'one seat less' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ outcome: 'done', refund: { amount: 700, state: 'done', source: 'admin', provider: 'scripted', fullId: `${order.code}-R-1` } });
    const list = await api(a.token, 'GET', `/api/v1/orders/${order.id}/refunds`);
    expect(list.json().results).toHaveLength(1);
  });

  it('refuses a refund above what is left with 409 and writes nothing', async () => {
    const { order, payment } = await paidScriptedOrder(a);
    const before = await snapshotRows(t.db.dataSource);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/refunds`, { paymentId: payment.id, amount: 2501 });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('REFUND_AMOUNT_EXCEEDS_AVAILABLE');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it('processes an external refund by canceling the order', async () => {
    const { order, payment } = await paidScriptedOrder(a);
    const { refund } = await t.core.refunds.createExternalRefund(payment.id, { externalId: `re_api_${order.id}` });
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/refunds/${refund.id}/process`, { action: 'cancel' });
    expect(res.statusCode).toBe(200);
    expect(res.json().state).toBe('done');
    expect(await statusOf(order.id)).toBe('canceled');
  });

  it('answers 400 naming the field for malformed bodies, writing nothing', async () => {
    const { order, payment } = await paidScriptedOrder(a);
    const before = await snapshotRows(t.db.dataSource);
    const cases: [unknown, string][] = [
      [{ paymentId: payment.id, amount: '7.00' }, 'amount'],
      [{ paymentId: payment.id, amount: 1.5 }, 'amount'],
      [{ amount: 100 }, 'paymentId'],
      [{ paymentId: 'nope', amount: 100 }, 'paymentId'],
      [{ paymentId: payment.id, amount: 100, sneaky: true }, 'sneaky'],
    ];
    for (const [body, field] of cases) {
      const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/refunds`, body);
      expect([field, res.statusCode]).toEqual([field, 400]);
      expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED', params: { field } });
    }
    const broken = await api(a.token, 'POST', `/api/v1/orders/${order.id}/refunds`, '{"paymentId":');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('VALIDATION_FAILED');
    const action = await api(a.token, 'POST', `/api/v1/orders/${order.id}/refunds/${payment.id}/process`, { action: 'ignore' });
    expect(action.json().error.params.field).toBe('action');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });
});

describe("another organizer's token", () => {
  it('gets 404 with no data on every order, payment and refund route, and nothing is written', async () => {
    const { order, payment } = await paidScriptedOrder(a);
    const { refund } = await t.core.refunds.createExternalRefund(payment.id, { externalId: `re_iso_${order.id}` });
    const before = await snapshotRows(t.db.dataSource);
    const routes: ['GET' | 'POST', string, unknown?][] = [
      ['GET', `/api/v1/orders/${order.id}`],
      ['GET', `/api/v1/orders/${order.id}/payments`],
      ['POST', `/api/v1/orders/${order.id}/payments/${payment.id}/confirm`, {}],
      ['POST', `/api/v1/orders/${order.id}/payments/${payment.id}/cancel`, {}],
      ['GET', `/api/v1/orders/${order.id}/refunds`],
      ['POST', `/api/v1/orders/${order.id}/refunds`, { paymentId: payment.id, amount: 100 }],
      ['POST', `/api/v1/orders/${order.id}/refunds/${refund.id}/process`, { action: 'cancel' }],
    ];
    for (const [method, url, body] of routes) {
      const res = await api(b.token, method, url, body);
      expect([url, res.statusCode]).toEqual([url, 404]);
      expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String), params: expect.any(Object) } });
      expect(res.body).not.toContain(order.code);
    }
    expect((await api(b.token, 'GET', `/api/v1/orders?q=${order.code}`)).json().count).toBe(0);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    expect(await t.db.dataSource.getRepository(OrderRefund).countBy({ orderId: order.id })).toBe(1);
  });
});

describe('OpenAPI document', () => {
  it('is served at /api/docs/json and describes every v1 route with the bearer scheme', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    // Without the webhooks dependency (this app has none) the webhook routes are not registered.
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/dashboard', '/api/v1/events', '/api/v1/events/{eventId}', '/api/v1/events/{eventId}/chart', '/api/v1/events/{eventId}/log', '/api/v1/events/{eventId}/products', '/api/v1/events/{eventId}/products/{productId}', '/api/v1/events/{eventId}/quotas', '/api/v1/events/{eventId}/quotas/{quotaId}', '/api/v1/exports', '/api/v1/exports/{taskId}/download', '/api/v1/orders', '/api/v1/orders/{orderId}', '/api/v1/orders/{orderId}/change', '/api/v1/orders/{orderId}/extend', '/api/v1/orders/{orderId}/log', '/api/v1/orders/{orderId}/mark_canceled', '/api/v1/orders/{orderId}/mark_expired', '/api/v1/orders/{orderId}/mark_paid', '/api/v1/orders/{orderId}/mark_pending', '/api/v1/orders/{orderId}/payments', '/api/v1/orders/{orderId}/payments/{paymentId}/cancel', '/api/v1/orders/{orderId}/payments/{paymentId}/confirm',
      '/api/v1/orders/{orderId}/refunds', '/api/v1/orders/{orderId}/refunds/{refundId}/process',
      '/api/v1/shredder', '/api/v1/shredder/preview', '/api/v1/tasks/{taskId}',
    ]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect((await t.app.inject({ method: 'GET', url: '/api/docs' })).statusCode).toBeLessThan(400);
  });
});
