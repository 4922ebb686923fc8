import { OrderFee, OrderPayment, OrderPosition, type Order } from '@kassa/core/host';
import { createProduct, createQuota, snapshotRows } from '@kassa/testing';
import { createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

describe('orders.placeOrder', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  it('prices positions from the products, adds the provider fee, and creates one created payment', async () => {
    h.card.common._feeAbs = 25;
    h.card.common._feePercent = '1.4';
    h.card.common._feeReverseCalc = false;
    try {
      const shop = await h.shop({ price: 5000 });
      const placed = await h.core.orders.placeOrder({
        eventId: shop.event.id, email: 'ada@example.org', locale: 'de',
        positions: [{ productId: shop.product.id, attendeeName: 'Ada' }, { productId: shop.product.id }],
        provider: 'card',
      });
      // 2 × 50.00 = 100.00; fee 1.4 % + 0.25 = 1.65
      expect(placed.order).toMatchObject({ status: 'pending', total: 10_165, currency: 'EUR', locale: 'de', email: 'ada@example.org' });
      expect(placed.order.code).toMatch(/^[A-Z3-9]{5}$/);
      expect(placed.order.secret.length).toBeGreaterThanOrEqual(32);
      expect(placed.order.expires.toISOString()).toBe('2030-03-15T10:00:00.000Z'); // now + 14 days
      const positions = await h.ds.manager.findBy(OrderPosition, { orderId: placed.order.id });
      expect(positions.map((p) => [p.positionNo, p.price, p.attendeeName]).sort()).toEqual([[1, 5000, 'Ada'], [2, 5000, null]]);
      const fees = await h.ds.manager.findBy(OrderFee, { orderId: placed.order.id });
      expect(fees).toEqual([expect.objectContaining({ feeType: 'payment', internalType: 'card', value: 165 })]);
      const payments = await h.ds.manager.findBy(OrderPayment, { orderId: placed.order.id });
      expect(payments).toEqual([expect.objectContaining({ state: 'created', amount: 10_165, provider: 'card', localId: 1, feeId: fees[0]?.id })]);
      expect(await logActions(h.ds, placed.order.id)).toEqual(['kassa.order.placed']);
      expect(await outboxTopics(h.ds, placed.order.id)).toEqual(['order.placed']);
    } finally {
      h.card.common._feeAbs = 0;
      h.card.common._feePercent = '0';
      delete h.card.common._feeReverseCalc;
    }
  });

  it('gives a zero-total order a free payment confirmed at once, and marks it paid', async () => {
    const shop = await h.shop({ price: 0 });
    const placed = await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: [{ productId: shop.product.id }], provider: 'card' });
    expect(placed.order.status).toBe('paid');
    expect(placed.payment).toMatchObject({ provider: 'free', state: 'confirmed', amount: 0 });
    expect(await logActions(h.ds, placed.order.id)).toEqual(['kassa.order.placed', 'kassa.order.payment.confirmed', 'kassa.order.paid']);
    expect(await outboxTopics(h.ds, placed.order.id)).toEqual(['order.placed', 'payment.confirmed', 'order.paid']);
  });

  it('computes fees in JPY (no minor unit) and KWD (three decimals) to the minor unit', async () => {
    h.card.common._feePercent = '3.6';
    try {
      const yen = await h.shop({ currency: 'JPY', price: 5000 });
      const jp = await h.core.orders.placeOrder({ eventId: yen.event.id, email: null, positions: [{ productId: yen.product.id }], provider: 'card' });
      expect(jp.order).toMatchObject({ currency: 'JPY', total: 5187 }); // 5000 / 0.964 = 5186.72 → fee 187 yen
      h.card.common._feePercent = '2.5';
      const kwd = await h.shop({ currency: 'KWD', price: 12_345 });
      const kw = await h.core.orders.placeOrder({ eventId: kwd.event.id, email: null, positions: [{ productId: kwd.product.id }], provider: 'card' });
      expect(kw.order).toMatchObject({ currency: 'KWD', total: 12_662 }); // 12.345 KWD + 0.317 fee
      expect(kw.payment).toMatchObject({ amount: 12_662, currency: 'KWD' });
    } finally {
      h.card.common._feePercent = '0';
    }
  });

  it('never oversells: 200 concurrent orders on a quota of 50 → exactly 50 orders', async () => {
    const shop = await h.shop({ quotaSize: 50 });
    const results = await Promise.allSettled(Array.from({ length: 200 }, () =>
      h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: [{ productId: shop.product.id }], provider: 'card' })));
    const placed = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(placed).toHaveLength(50);
    expect(new Set(refused.map((r) => (r.reason as { code?: string }).code))).toEqual(new Set(['ORDER_QUOTA_EXCEEDED']));
    const [row] = await h.ds.query('SELECT count(*)::int AS n, count(DISTINCT code)::int AS codes FROM kassa_order WHERE event_id = $1', [shop.event.id]);
    expect(row).toEqual({ n: 50, codes: 50 });
  });

  it('counts pending and paid orders against quota, but not expired or canceled ones', async () => {
    const shop = await h.shop({ quotaSize: 2 });
    const a = await h.order(shop);
    await h.order(shop);
    expect(await errorCode(h.order(shop))).toBe('ORDER_QUOTA_EXCEEDED');
    await h.ds.query(`UPDATE kassa_order SET status = 'expired' WHERE id = $1`, [a.order.id]);
    await expect(h.order(shop)).resolves.toBeDefined();
  });

  it('checks every quota a product is in, and several positions at once', async () => {
    const shop = await h.shop({ quotaSize: 10 });
    const other = await createProduct(h.ds, shop.event.id, { price: 700 });
    await createQuota(h.ds, shop.event.id, [shop.product, other], 3, 'Whole venue');
    expect(await errorCode(h.order(shop, { count: 4 }))).toBe('ORDER_QUOTA_EXCEEDED');
    const placed = await h.core.orders.placeOrder({
      eventId: shop.event.id, email: null, provider: 'card',
      positions: [{ productId: shop.product.id }, { productId: other.id }, { productId: other.id }],
    });
    expect(placed.order.total).toBe(2400);
    expect(await errorCode(h.order(shop))).toBe('ORDER_QUOTA_EXCEEDED');
  });

  describe('bad input is refused with a catalogued error and nothing is written', () => {
    const cases: [string, (h: CoreHarness, ids: { event: string; product: string; otherProduct: string; homeless: string }) => Promise<unknown>, string][] = [
      ['no positions', (h, ids) => h.core.orders.placeOrder({ eventId: ids.event, email: null, positions: [], provider: 'card' }), 'ORDER_EMPTY'],
      ['unknown provider', (h, ids) => h.core.orders.placeOrder({ eventId: ids.event, email: null, positions: [{ productId: ids.product }], provider: 'bitcoin' }), 'PAYMENT_PROVIDER_UNKNOWN'],
      ['unknown event', (h, ids) => h.core.orders.placeOrder({ eventId: '00000000-0000-4000-8000-000000000000', email: null, positions: [{ productId: ids.product }] }), 'NOT_FOUND'],
      ['a product of another event', (h, ids) => h.core.orders.placeOrder({ eventId: ids.event, email: null, positions: [{ productId: ids.otherProduct }] }), 'ORDER_PRODUCT_UNAVAILABLE'],
      ['a product in no quota', (h, ids) => h.core.orders.placeOrder({ eventId: ids.event, email: null, positions: [{ productId: ids.homeless }], provider: 'card' }), 'ORDER_PRODUCT_UNAVAILABLE'],
      ['an invalid e-mail', (h, ids) => h.core.orders.placeOrder({ eventId: ids.event, email: 'nope', positions: [{ productId: ids.product }] }), 'VALIDATION_FAILED'],
      ['a provider over its maximum', (h, ids) => h.core.orders.placeOrder({ eventId: ids.event, email: null, positions: [{ productId: ids.product }], provider: 'bank' }), 'PAYMENT_PROVIDER_NOT_ALLOWED'],
    ];
    it.each(cases)('%s', async (_name, call, code) => {
      const shop = await h.shop();
      const other = await h.shop();
      const homeless = await createProduct(h.ds, shop.event.id);
      h.bank.common._totalMax = 500;
      try {
        const before = await snapshotRows(h.ds);
        expect(await errorCode(call(h, { event: shop.event.id, product: shop.product.id, otherProduct: other.product.id, homeless: homeless.id }))).toBe(code);
        expect(await snapshotRows(h.ds)).toEqual(before);
      } finally {
        delete h.bank.common._totalMax;
      }
    });
  });

  it('gives each order its own code and secret', async () => {
    const shop = await h.shop();
    const orders: Order[] = [];
    for (let i = 0; i < 5; i++) orders.push((await h.order(shop)).order);
    expect(new Set(orders.map((o) => o.code)).size).toBe(5);
    expect(new Set(orders.map((o) => o.secret)).size).toBe(5);
  });
});
