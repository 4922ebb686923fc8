import { Order, OrderPayment, OrderPosition } from '@kassa/core/host';
import { createProduct, snapshotRows } from '@kassa/testing';
import { createCoreHarness, errorCode, logActions, type CoreHarness } from './core-harness';

/*
 * placeOrder's idempotency key and startPayment, and the one-statement placement (no transaction
 * of Node's: the SQL alone decides the quota, so a refusal writes nothing at all).
 */
describe('placeOrder with an idempotency key', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  const place = (eventId: string, productId: string, key?: string, extra: Record<string, unknown> = {}) => h.core.orders.placeOrder({
    eventId, email: 'ada@example.org', positions: [{ productId }], provider: 'card', ...(key === undefined ? {} : { idempotencyKey: key }), ...extra,
  });

  it('returns the first order for a repeated key, placing and logging nothing more', async () => {
    const shop = await h.shop({ price: 1200 });
    const first = await place(shop.event.id, shop.product.id, 'form-1');
    expect(first.replayed).toBe(false);
    const before = await snapshotRows(h.ds);
    const again = await place(shop.event.id, shop.product.id, 'form-1');
    expect(again.replayed).toBe(true);
    expect(again.order.id).toBe(first.order.id);
    expect(again.payment?.id).toBe(first.payment?.id);
    expect(again.positions.map((p) => p.id)).toEqual(first.positions.map((p) => p.id));
    expect(await snapshotRows(h.ds)).toEqual(before);
    expect(await logActions(h.ds, first.order.id)).toEqual(['kassa.order.placed']);
  });

  it('places exactly one order for 20 concurrent calls with one key, and uses one seat', async () => {
    const shop = await h.shop({ quotaSize: 5 });
    const results = await Promise.all(Array.from({ length: 20 }, () => place(shop.event.id, shop.product.id, 'double-click')));
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await h.ds.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
    const [usage] = await h.ds.query('SELECT u.used FROM quota_usage u JOIN quota q ON q.id = u.quota_id WHERE q.event_id = $1', [shop.event.id]);
    expect(usage).toEqual({ used: 1 });
  });

  it('keeps keys apart per event, and places a new order without a key every time', async () => {
    const a = await h.shop();
    const b = await h.shop();
    const inA = await place(a.event.id, a.product.id, 'same-key');
    const inB = await place(b.event.id, b.product.id, 'same-key');
    expect(inB.replayed).toBe(false);
    expect(inB.order.id).not.toBe(inA.order.id);
    const [x, y] = [await place(a.event.id, a.product.id), await place(a.event.id, a.product.id)];
    expect(x.order.id).not.toBe(y.order.id);
    expect(x.order.idempotencyKey).toBeNull();
  });

  it('replays a free order (placed in a transaction) as well', async () => {
    const shop = await h.shop({ price: 0 });
    const first = await place(shop.event.id, shop.product.id, 'free-1');
    const again = await place(shop.event.id, shop.product.id, 'free-1');
    expect(first.order.status).toBe('paid');
    expect(again).toMatchObject({ replayed: true, order: { id: first.order.id, status: 'paid' } });
    expect(await h.ds.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
  });

  it.each([['empty', ''], ['too long', 'k'.repeat(201)], ['not a string', 42]])('refuses a key that is %s, writing nothing', async (_name, key) => {
    const shop = await h.shop();
    const before = await snapshotRows(h.ds);
    expect(await errorCode(place(shop.event.id, shop.product.id, key as string))).toBe('VALIDATION_FAILED');
    expect(await snapshotRows(h.ds)).toEqual(before);
  });

  it('lets a key be used again after its first call was refused for quota (nothing was written)', async () => {
    const shop = await h.shop({ quotaSize: 1 });
    const taker = await place(shop.event.id, shop.product.id);
    const before = await snapshotRows(h.ds);
    expect(await errorCode(place(shop.event.id, shop.product.id, 'retry-me'))).toBe('ORDER_QUOTA_EXCEEDED');
    expect(await snapshotRows(h.ds)).toEqual(before);
    await h.core.orders.cancelOrder(taker.order.id, { actor: { type: 'user', id: 'admin-1' } });
    const placed = await place(shop.event.id, shop.product.id, 'retry-me');
    expect(placed.replayed).toBe(false);
  });
});

describe('placeOrder in one statement', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  it('refuses a product in no quota alongside one in a quota, writing nothing and keeping the counter', async () => {
    const shop = await h.shop({ quotaSize: 10 });
    const homeless = await createProduct(h.ds, shop.event.id);
    const before = await snapshotRows(h.ds);
    const call = h.core.orders.placeOrder({
      eventId: shop.event.id, email: null, provider: 'card', positions: [{ productId: shop.product.id }, { productId: homeless.id }],
    });
    expect(await errorCode(call)).toBe('ORDER_PRODUCT_UNAVAILABLE');
    expect(await snapshotRows(h.ds)).toEqual(before);
  });

  it('returns the order, its numbered positions and its payment as they were written', async () => {
    const shop = await h.shop({ price: 800 });
    const placed = await h.core.orders.placeOrder({
      eventId: shop.event.id, email: null, provider: 'card',
      positions: [{ productId: shop.product.id, attendeeName: 'A' }, { productId: shop.product.id, attendeeName: 'B' }, { productId: shop.product.id }],
    });
    const stored = await h.ds.manager.find(OrderPosition, { where: { orderId: placed.order.id }, order: { positionNo: 'ASC' } });
    expect(placed.positions).toEqual(stored);
    expect(placed.positions.map((p) => [p.positionNo, p.attendeeName, p.price])).toEqual([[1, 'A', 800], [2, 'B', 800], [3, null, 800]]);
    expect(placed.order).toEqual(await h.ds.manager.findOneByOrFail(Order, { id: placed.order.id }));
    expect(placed.payment).toMatchObject({ state: 'created', amount: 2400, processInitiated: false });
  });
});

describe('placeOrder in batches (orders queued while one placement is in flight)', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  const order = (eventId: string, productId: string, tickets: number, attendeeName: string | null = null) => h.core.orders.placeOrder({
    eventId, email: null, provider: 'card', positions: Array.from({ length: tickets }, () => ({ productId, attendeeName })),
  });
  const used = async (eventId: string) => (await h.ds.query('SELECT u.used FROM quota_usage u JOIN quota q ON q.id = u.quota_id WHERE q.event_id = $1', [eventId]))[0].used as number;

  it('decides a batch in queue order: an order that does not fit is refused, smaller ones behind it still get the seats', async () => {
    const shop = await h.shop({ quotaSize: 6 });
    await order(shop.event.id, shop.product.id, 1); // the catalogue is cached: the calls below reach the queue at once
    // The first goes out alone; the other four queue behind it and go together, in this order.
    const [first, a, b, c, d] = await Promise.allSettled([
      order(shop.event.id, shop.product.id, 1), order(shop.event.id, shop.product.id, 1), order(shop.event.id, shop.product.id, 2),
      order(shop.event.id, shop.product.id, 3), order(shop.event.id, shop.product.id, 1),
    ]);
    expect([first, a, b, d].map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(c.status).toBe('rejected');
    const refusal = (c as PromiseRejectedResult).reason as { code: string; message: string; params: { detail: string } };
    expect(refusal.code).toBe('ORDER_QUOTA_EXCEEDED');
    expect(refusal.params.detail).toContain('has 1 left, 3 requested');
    expect(await used(shop.event.id)).toBe(6);
    expect(await h.ds.manager.countBy(Order, { eventId: shop.event.id })).toBe(5);
    // One statement (one transaction) placed a and b; d, behind the refused c, went in the next one.
    const xmin = async (r: PromiseSettledResult<{ order: Order }>) =>
      (await h.ds.query('SELECT xmin::text AS x FROM kassa_order WHERE id = $1', [(r as PromiseFulfilledResult<{ order: Order }>).value.order.id]))[0].x as string;
    expect(await xmin(a)).toBe(await xmin(b));
    expect(await xmin(d)).not.toBe(await xmin(a));
  });

  it('lets one order PostgreSQL refuses fail alone, and places the others of its batch', async () => {
    const shop = await h.shop({ quotaSize: 10 });
    const results = await Promise.allSettled([
      order(shop.event.id, shop.product.id, 1), order(shop.event.id, shop.product.id, 1),
      order(shop.event.id, shop.product.id, 1, 'bad\u0000name'), order(shop.event.id, shop.product.id, 1),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await h.ds.manager.countBy(Order, { eventId: shop.event.id })).toBe(3);
    expect(await used(shop.event.id)).toBe(3);
  });

  it('keeps two events apart: a sold-out event does not hold back the other', async () => {
    const full = await h.shop({ quotaSize: 1 });
    const open = await h.shop({ quotaSize: 10 });
    const results = await Promise.allSettled([
      order(full.event.id, full.product.id, 1), order(open.event.id, open.product.id, 2),
      order(full.event.id, full.product.id, 1), order(open.event.id, open.product.id, 2),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect([await used(full.event.id), await used(open.event.id)]).toEqual([1, 4]);
  });
});

describe('placeOrder priced from its cached catalogue', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  const one = (eventId: string, productId: string) => h.core.orders.placeOrder({ eventId, email: null, positions: [{ productId }], provider: 'card' });

  it('uses a price changed behind its back (by SQL, as another process would) on the very next order', async () => {
    const shop = await h.shop({ price: 1000 });
    expect((await one(shop.event.id, shop.product.id)).order.total).toBe(1000); // now cached
    await h.ds.query('UPDATE product SET price = 1500 WHERE id = $1', [shop.product.id]);
    const next = await one(shop.event.id, shop.product.id);
    expect(next.order.total).toBe(1500);
    expect(next.positions.map((p) => p.price)).toEqual([1500]);
    expect(next.payment?.amount).toBe(1500);
  });

  it('refuses a product deactivated behind its back, writing nothing', async () => {
    const shop = await h.shop();
    await one(shop.event.id, shop.product.id);
    await h.ds.query('UPDATE product SET active = false WHERE id = $1', [shop.product.id]);
    const before = await snapshotRows(h.ds);
    expect(await errorCode(one(shop.event.id, shop.product.id))).toBe('ORDER_PRODUCT_UNAVAILABLE');
    expect(await snapshotRows(h.ds)).toEqual(before);
  });

  it('uses a payment term changed behind its back for the expiry', async () => {
    const shop = await h.shop();
    const first = await one(shop.event.id, shop.product.id);
    await h.ds.query('UPDATE event SET payment_term_days = 3 WHERE id = $1', [shop.event.id]);
    const next = await one(shop.event.id, shop.product.id);
    expect(first.order.expires.getTime() - next.order.expires.getTime()).toBe(11 * 86_400_000);
  });

  it('turns free when the price drops to zero behind its back, and confirms the free payment', async () => {
    const shop = await h.shop({ price: 700 });
    await one(shop.event.id, shop.product.id);
    await h.ds.query('UPDATE product SET price = 0 WHERE id = $1', [shop.product.id]);
    const next = await one(shop.event.id, shop.product.id);
    expect(next.order).toMatchObject({ total: 0, status: 'paid' });
    expect(next.payment).toMatchObject({ provider: 'free', state: 'confirmed' });
  });
});

describe('placeOrder with startPayment', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  const stored = (id: string) => h.ds.manager.findOneByOrFail(OrderPayment, { id });

  it('writes the first payment initiated, and executes it once through the returned object', async () => {
    const shop = await h.shop();
    const placed = await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: [{ productId: shop.product.id }], provider: 'card', startPayment: true });
    const payment = placed.payment!;
    expect(await stored(payment.id)).toMatchObject({ state: 'created', processInitiated: true });
    h.card.paymentOutcomes.push({ kind: 'pending' });
    const calls = h.card.calls.length;
    const loaded = { payment, order: placed.order, event: (await h.core.payments.loadPayment(payment.id)).event };
    await h.core.payments.executePayment(payment.id, {}, { loaded });
    expect(await stored(payment.id)).toMatchObject({ state: 'pending', processInitiated: true });
    expect(h.card.calls.length).toBe(calls + 1);
    // The right is used up: the same object again, or the payment by id, goes through the database check.
    expect(await errorCode(h.core.payments.executePayment(payment.id, {}, { loaded }))).toBe('PAYMENT_NOT_EXECUTABLE');
    expect(h.card.calls.length).toBe(calls + 1);
  });

  it('gives no right to anyone who loads the payment by its id', async () => {
    const shop = await h.shop();
    const placed = await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: [{ productId: shop.product.id }], provider: 'card', startPayment: true });
    const calls = h.card.calls.length;
    expect(await errorCode(h.core.payments.executePayment(placed.payment!.id, {}))).toBe('PAYMENT_NOT_EXECUTABLE');
    expect(h.card.calls.length).toBe(calls);
  });
});
