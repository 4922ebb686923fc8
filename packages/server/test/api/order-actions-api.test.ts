import { Event, LogEntry, Order, OrderPayment } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import { createOrganizerFixture, createTestApp, getPage, login, placeManualOrder, type OrganizerFixture, type TestApp } from '../infra/test-app';

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

const orderRow = (id: string) => t.db.dataSource.getRepository(Order).findOneByOrFail({ id });
const actions = async (orderId: string) => (await t.db.dataSource.getRepository(LogEntry).findBy({ orderId })).map((e) => e.action);

async function paidOrder(f: OrganizerFixture) {
  const { order } = await placeManualOrder(t, f);
  await t.core.orders.markPaid(order.id, { actor: { type: 'system' } });
  return order;
}

describe('every new order route is scoped to the token\'s organizer', () => {
  it.each([
    ['/payments', { provider: 'manual' }],
    ['/mark_pending', {}],
    ['/mark_expired', {}],
    ['/mark_canceled', {}],
    ['/extend', { expires: '2099-01-01' }],
  ])('POST …%s on another organizer\'s order is 404 and changes nothing', async (path, body) => {
    const { order } = await placeManualOrder(t, b);
    const before = await snapshotRows(t.db.dataSource);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}${path}`, body);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    expect((await api('kassa_nope', 'POST', `/api/v1/orders/${order.id}${path}`, body)).statusCode).toBe(401);
  });
});

describe('POST /orders/:id/payments', () => {
  it('creates a manual payment for what is owed, and confirms it at once when asked', async () => {
    const { order } = await placeManualOrder(t, a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments`, { provider: 'manual', amount: 1000, confirm: true });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ result: 'partially_paid', payment: { provider: 'manual', amount: 1000, state: 'confirmed' } });
    const rest = await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments`, { provider: 'manual', confirm: true });
    expect(rest.json()).toMatchObject({ result: 'order_paid', payment: { amount: 1500, state: 'confirmed' } });
    expect((await orderRow(order.id)).status).toBe('paid');
  });

  it('creates an open attempt of another provider, and refuses to confirm it (400 naming confirm)', async () => {
    const { order } = await placeManualOrder(t, a);
    const open = await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments`, { provider: 'scripted' });
    expect(open.statusCode).toBe(201);
    expect(open.json()).toMatchObject({ result: null, payment: { provider: 'scripted', state: 'created', amount: 2500 } });
    const before = await snapshotRows(t.db.dataSource);
    const refused = await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments`, { provider: 'scripted', confirm: true });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.params.field).toBe('confirm');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it.each([
    [{ provider: 'nope' }, 'provider'],
    [{ provider: 'manual', amount: '7.00' }, 'amount'],
    [{ provider: 'manual', amount: 0 }, 'amount'],
    [{ amount: 100 }, 'provider'],
    [{ provider: 'manual', colour: 'red' }, 'colour'],
  ])('refuses bad input %j with 400 naming %s', async (body, field) => {
    const { order } = await placeManualOrder(t, a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments`, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.params.field).toBe(field);
  });

  it('refuses a payment for an order that cannot end up paid (409 ORDER_NOT_PAYABLE, nothing written); force is the organizer\'s override', async () => {
    // After the event's last date of payments.
    const f = await createOrganizerFixture(t);
    const { order } = await placeManualOrder(t, f);
    await t.db.dataSource.getRepository(Event).update({ id: f.event.id }, { paymentTermLast: new Date(t.clock.now().getTime() - 60_000) });
    let before = await snapshotRows(t.db.dataSource);
    const late = await api(f.token, 'POST', `/api/v1/orders/${order.id}/payments`, { provider: 'scripted' });
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toMatchObject({ code: 'ORDER_NOT_PAYABLE', message: expect.stringMatching(/last date of payments/) });
    const confirmed = await api(f.token, 'POST', `/api/v1/orders/${order.id}/payments`, { provider: 'manual', confirm: true });
    expect(confirmed.statusCode).toBe(409);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    const forced = await api(f.token, 'POST', `/api/v1/orders/${order.id}/payments`, { provider: 'manual', confirm: true, force: true });
    expect(forced.statusCode).toBe(201);
    expect(forced.json()).toMatchObject({ result: 'order_paid', payment: { state: 'confirmed' } });

    // Expired, and its last seat was sold meanwhile.
    const g = await createOrganizerFixture(t);
    await t.db.dataSource.query('UPDATE quota SET size = 1 WHERE id IN (SELECT quota_id FROM quota_product WHERE product_id = $1)', [g.product.id]);
    const expired = await placeManualOrder(t, g);
    await t.db.dataSource.query("UPDATE kassa_order SET expires = now() - interval '1 day' WHERE id = $1", [expired.order.id]);
    await t.core.orders.expireOrders(t.clock.now());
    await placeManualOrder(t, g);
    before = await snapshotRows(t.db.dataSource);
    const gone = await api(g.token, 'POST', `/api/v1/orders/${expired.order.id}/payments`, { provider: 'scripted' });
    expect(gone.statusCode).toBe(409);
    expect(gone.json().error).toMatchObject({ code: 'ORDER_NOT_PAYABLE', message: expect.stringMatching(/no longer available/) });
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it('refuses a payment on a canceled order (409) and writes nothing', async () => {
    const { order } = await placeManualOrder(t, a);
    await t.core.orders.cancelOrder(order.id, { actor: { type: 'system' } });
    const before = await snapshotRows(t.db.dataSource);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments`, { provider: 'manual', amount: 100 });
    expect(res.statusCode).toBe(409);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });
});

describe('mark_pending and mark_expired', () => {
  it('marks a paid order pending (logged as unpaid), and refuses a pending one with 409', async () => {
    const order = await paidOrder(a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_pending`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: order.id, status: 'pending' });
    expect(await actions(order.id)).toContain('kassa.order.unpaid');
    const again = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_pending`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('STATE_TRANSITION_NOT_ALLOWED');
  });

  it('expires a pending order now and releases its payment rules; an expired one cannot expire again', async () => {
    const { order } = await placeManualOrder(t, a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_expired`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('expired');
    expect(await actions(order.id)).toContain('kassa.order.expired');
    expect((await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_expired`, {})).statusCode).toBe(409);
    const paid = await paidOrder(a);
    expect((await api(a.token, 'POST', `/api/v1/orders/${paid.id}/mark_expired`, {})).statusCode).toBe(409);
    expect((await orderRow(paid.id)).status).toBe('paid');
  });

  it('refuses a body on these routes (400 naming the field)', async () => {
    const { order } = await placeManualOrder(t, a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_expired`, { force: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.params.field).toBe('force');
    expect((await orderRow(order.id)).status).toBe('pending');
  });
});

describe('mark_canceled', () => {
  it('cancels a pending order; a second call is 409', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_canceled`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ order: { status: 'canceled' }, refunds: [], refundRequested: 0 });
    expect((await t.db.dataSource.getRepository(OrderPayment).findOneByOrFail({ id: payment.id })).state).toBe('canceled');
    expect((await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_canceled`, {})).statusCode).toBe(409);
  });

  it('keeps a cancellation fee and refunds the rest automatically through the provider', async () => {
    const placed = await t.core.orders.placeOrder({ eventId: a.event.id, email: 'c@example.test', positions: [{ productId: a.product.id }], provider: 'scripted' });
    await t.core.payments.executePayment(placed.payment!.id, {});
    const res = await api(a.token, 'POST', `/api/v1/orders/${placed.order.id}/mark_canceled`, { cancellationFee: 500, autoRefund: true });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.order).toMatchObject({ status: 'paid', total: 500 });
    expect(body.refunds).toEqual([expect.objectContaining({ amount: 2000, provider: 'scripted' })]);
    expect(body.refundRequested).toBe(0);
  });

  it('without autoRefund reports what is owed back as refundRequested', async () => {
    const order = await paidOrder(a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_canceled`, { sendEmail: false });
    expect(res.json()).toMatchObject({ order: { status: 'canceled' }, refunds: [], refundRequested: 2500 });
    expect(await actions(order.id)).toContain('kassa.order.refund.requested');
  });

  it('refuses a fee above the total, or as text, writing nothing', async () => {
    const { order } = await placeManualOrder(t, a);
    const before = await snapshotRows(t.db.dataSource);
    const high = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_canceled`, { cancellationFee: 999999 });
    expect(high.statusCode).toBe(400);
    expect(high.json().error).toMatchObject({ code: 'ORDER_CANCELLATION_FEE_TOO_HIGH', params: { field: 'cancellationFee' } });
    const text = await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_canceled`, { cancellationFee: '5.00' });
    expect(text.statusCode).toBe(400);
    expect(text.json().error.params.field).toBe('cancellationFee');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });
});

describe('extend', () => {
  it('sets a new deadline, a date meaning the end of that day', async () => {
    const { order } = await placeManualOrder(t, a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/extend`, { expires: '2099-03-04' });
    expect(res.statusCode).toBe(200);
    expect(res.json().expires).toBe('2099-03-04T23:59:59.999Z');
    expect((await orderRow(order.id)).expires.toISOString()).toBe('2099-03-04T23:59:59.999Z');
  });

  it('revives an expired order', async () => {
    const { order } = await placeManualOrder(t, a);
    await t.core.orders.markExpired(order.id, { type: 'system' });
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/extend`, { expires: '2099-01-01T10:00:00Z' });
    expect(res.json()).toMatchObject({ status: 'pending', expires: '2099-01-01T10:00:00.000Z' });
  });

  it.each([{ expires: 'tomorrow' }, { expires: '2000-01-01' }, {}])('refuses %j with 400 naming expires', async (body) => {
    const { order } = await placeManualOrder(t, a);
    const res = await api(a.token, 'POST', `/api/v1/orders/${order.id}/extend`, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.params.field).toBe('expires');
  });

  it('cannot extend a paid order (409)', async () => {
    const order = await paidOrder(a);
    expect((await api(a.token, 'POST', `/api/v1/orders/${order.id}/extend`, { expires: '2099-01-01' })).statusCode).toBe(409);
  });
});

describe('events, products and quotas', () => {
  it('lists only the organizer\'s events, paginated', async () => {
    const res = await api(a.token, 'GET', '/api/v1/events?pageSize=1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ count: 1, page: 1, next: null, results: [{ id: a.event.id, currency: 'EUR' }] });
    expect((await api(a.token, 'GET', '/api/v1/events?pageSize=500')).statusCode).toBe(400);
  });

  it('lists and retrieves products and quotas with their use; another organizer\'s are 404', async () => {
    await placeManualOrder(t, a);
    const products = await api(a.token, 'GET', `/api/v1/events/${a.event.id}/products`);
    expect(products.json().results).toEqual([expect.objectContaining({ id: a.product.id, price: 2500, active: true })]);
    expect((await api(a.token, 'GET', `/api/v1/events/${a.event.id}/products/${a.product.id}`)).json()).toMatchObject({ id: a.product.id });
    const quotas = (await api(a.token, 'GET', `/api/v1/events/${a.event.id}/quotas`)).json().results;
    expect(quotas).toHaveLength(1);
    expect(quotas[0]).toMatchObject({ size: 100, products: [a.product.id] });
    expect(quotas[0].used).toBeGreaterThan(0);
    expect(quotas[0].available).toBe(100 - quotas[0].used);
    const one = await api(a.token, 'GET', `/api/v1/events/${a.event.id}/quotas/${quotas[0].id}`);
    expect(one.json()).toEqual(quotas[0]);

    for (const url of [
      `/api/v1/events/${b.event.id}/products`, `/api/v1/events/${b.event.id}/products/${b.product.id}`, `/api/v1/events/${a.event.id}/products/${b.product.id}`,
      `/api/v1/events/${b.event.id}/quotas`, `/api/v1/events/${b.event.id}/quotas/${quotas[0].id}`, `/api/v1/events/${b.event.id}`,
    ]) {
      const res = await api(a.token, 'GET', url);
      expect([url, res.statusCode]).toEqual([url, 404]);
    }
    expect((await api(a.token, 'GET', `/api/v1/events/${a.event.id}/quotas/not-a-uuid`)).statusCode).toBe(400);
  });
});

describe('the order log in people\'s language', () => {
  it('answers each entry with its sentence (en, de) and keeps the code and details', async () => {
    const { order, payment } = await placeManualOrder(t, a);
    expect((await api(a.token, 'POST', `/api/v1/orders/${order.id}/payments/${payment.id}/confirm`, {})).statusCode).toBe(200);
    const res = await api(a.token, 'GET', `/api/v1/orders/${order.id}/log`);
    expect(res.statusCode).toBe(200);
    const confirmed = res.json().results.find((e: { action: string }) => e.action === 'kassa.order.payment.confirmed');
    expect(confirmed).toMatchObject({ sentence: 'Payment P-1 of €25.00 confirmed by API token “test”', actor: { type: 'api_token', label: 'API token “test”' }, objectId: payment.id });
    expect(res.json().results.map((e: { sentence: string }) => e.sentence)).toContain('Order placed by the buyer');
    const de = (await api(a.token, 'GET', `/api/v1/orders/${order.id}/log?locale=de`)).json().results;
    expect(de.find((e: { action: string }) => e.action === 'kassa.order.payment.confirmed').sentence).toBe('Zahlung P-1 über 25,00\u00a0€ bestätigt von API-Token „test“');
    const negotiated = await t.app.inject({ method: 'GET', url: `/api/v1/orders/${order.id}/log`, headers: { authorization: `Bearer ${a.token}`, 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' } });
    expect(negotiated.json().results[0].sentence).toMatch(/^Bestellung|^Zahlung/);
    const bad = await api(a.token, 'GET', `/api/v1/orders/${order.id}/log?locale=fr`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.params.field).toBe('locale');
    expect((await api(b.token, 'GET', `/api/v1/orders/${order.id}/log`)).statusCode).toBe(404);
  });

  it('shows the sentences on the control panel\'s order page, with the code beside them', async () => {
    const { order } = await placeManualOrder(t, a);
    await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_canceled`, { cancellationFee: 0 });
    const browser = await login(t, a.email, a.password);
    const page = await getPage(t, browser, `/control/orders/${order.id}`);
    expect(page.body).toContain('Order canceled by API token “test”');
    expect(page.body).toContain('<code class="small muted" title="Log action code">kassa.order.canceled</code>');
    const de = await t.app.inject({ method: 'GET', url: `/control/orders/${order.id}`, headers: { cookie: browser.cookie, 'accept-language': 'de' } });
    expect(de.body).toContain('Bestellung storniert von API-Token „test“');
  });
});

describe('the OpenAPI document', () => {
  it('is served at /api/v1/openapi.json without a token and documents every new route', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    for (const path of ['/api/v1/orders/{orderId}/payments', '/api/v1/orders/{orderId}/mark_pending', '/api/v1/orders/{orderId}/mark_expired',
      '/api/v1/orders/{orderId}/mark_canceled', '/api/v1/orders/{orderId}/extend', '/api/v1/events', '/api/v1/events/{eventId}/products',
      '/api/v1/events/{eventId}/products/{productId}', '/api/v1/events/{eventId}/quotas', '/api/v1/events/{eventId}/quotas/{quotaId}']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/api/v1/orders/{orderId}/payments'].post.requestBody.content['application/json'].schema.required).toEqual(['provider']);
  });
});

describe('X-Idempotency-Key', () => {
  const post = (token: string, url: string, body: unknown, key?: string) => t.app.inject({
    method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'x-idempotency-key': key } : {}) },
    payload: JSON.stringify(body),
  });

  it('answers a repeated request with the first answer and changes nothing the second time', async () => {
    const { order } = await placeManualOrder(t, a);
    const url = `/api/v1/orders/${order.id}/payments`;
    const first = await post(a.token, url, { provider: 'manual', amount: 500 }, 'pay-500-once');
    expect(first.statusCode).toBe(201);
    const before = await snapshotRows(t.db.dataSource);
    const again = await post(a.token, url, { provider: 'manual', amount: 500 }, 'pay-500-once');
    expect(again.statusCode).toBe(201);
    expect(again.headers['x-idempotency-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
    // Without a key, the same request is a new attempt (pretix's payment creation is not idempotent by itself).
    expect((await post(a.token, url, { provider: 'manual', amount: 500 })).json().payment.id).not.toBe(first.json().payment.id);
  });

  it('replays refusals too, refuses a key reused for another request (422), and keeps keys per token', async () => {
    const order = await paidOrder(a);
    const url = `/api/v1/orders/${order.id}/mark_expired`;
    const refused = await post(a.token, url, {}, 'expire-1');
    expect(refused.statusCode).toBe(409);
    expect((await post(a.token, url, {}, 'expire-1')).statusCode).toBe(409);
    const reused = await post(a.token, `/api/v1/orders/${order.id}/mark_pending`, {}, 'expire-1');
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('API_IDEMPOTENCY_KEY_REUSED');
    expect((await orderRow(order.id)).status).toBe('paid');
    // Another organizer's token with the same key is its own request (and finds no such order).
    expect((await post(b.token, url, {}, 'expire-1')).statusCode).toBe(404);
  });

  it('answers 409 while the first request with the key is still running, and refuses a malformed key', async () => {
    const { order } = await placeManualOrder(t, a);
    await t.db.dataSource.query(
      `INSERT INTO api_idempotency_key (token_id, key, fingerprint, created_at) SELECT id, 'running', 'x', now() FROM api_token WHERE organizer_id = $1`, [a.organizer.id],
    );
    const busy = await post(a.token, `/api/v1/orders/${order.id}/mark_expired`, {}, 'running');
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error.code).toBe('API_IDEMPOTENCY_IN_PROGRESS');
    expect((await orderRow(order.id)).status).toBe('pending');
    const bad = await post(a.token, `/api/v1/orders/${order.id}/mark_expired`, {}, 'spaces are not allowed');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.params.field).toBe('X-Idempotency-Key');
  });
});
