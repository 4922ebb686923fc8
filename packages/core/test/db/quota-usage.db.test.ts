import { OrderPosition, coreMigrations, money, type DataSource } from '@kassa/core/host';
import { createProduct, createQuota } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;

/*
 * quota_usage.used must equal, at every commit, what reserveQuota used to count under the lock:
 * the non-canceled positions of pending and paid orders whose product is in the quota. Every
 * test compares the counter with that count, recomputed from scratch, after each kind of change.
 */
async function usage(ds: DataSource, quotaId: string): Promise<{ used: number; counted: number }> {
  const [row] = await ds.query(
    `SELECT (SELECT used FROM quota_usage WHERE quota_id = $1) AS used,
            (SELECT count(*)::int FROM quota_product qp
               JOIN order_position op ON op.product_id = qp.product_id AND NOT op.canceled
               JOIN kassa_order o ON o.id = op.order_id AND o.status IN ('pending', 'paid')
              WHERE qp.quota_id = $1) AS counted`, [quotaId]);
  return row;
}

/** Every quota's counter against the recount; returns the quotas whose counter is off. */
async function drifted(ds: DataSource): Promise<unknown[]> {
  return ds.query(
    `SELECT q.id, u.used, c.counted FROM quota q
       LEFT JOIN quota_usage u ON u.quota_id = q.id
       CROSS JOIN LATERAL (SELECT count(*)::int AS counted FROM quota_product qp
               JOIN order_position op ON op.product_id = qp.product_id AND NOT op.canceled
               JOIN kassa_order o ON o.id = op.order_id AND o.status IN ('pending', 'paid')
              WHERE qp.quota_id = q.id) c
      WHERE u.used IS DISTINCT FROM c.counted`);
}

describe('quota usage counter (constant-cost quota check)', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  afterEach(async () => { expect(await drifted(h.ds)).toEqual([]); });

  it('follows placing, paying, expiring, extending, late payment and canceling', async () => {
    const shop = await h.shop({ quotaSize: 10 });
    const q = shop.quota.id;
    expect(await usage(h.ds, q)).toEqual({ used: 0, counted: 0 });
    const a = await h.order(shop, { count: 3 });
    const b = await h.order(shop, { count: 2 });
    expect(await usage(h.ds, q)).toEqual({ used: 5, counted: 5 });
    await h.core.payments.confirmPayment(b.paymentId, { actor: card }); // pending → paid: still counted
    expect((await usage(h.ds, q)).used).toBe(5);

    h.clock.advance({ days: 15 });
    expect(await h.core.orders.expireOrders()).toBe(1); // a expires, b is paid
    expect((await usage(h.ds, q)).used).toBe(2);
    await h.core.orders.extendOrder(a.order.id, new Date(h.clock.now().getTime() + 86_400_000), { actor: admin });
    expect((await usage(h.ds, q)).used).toBe(5);

    h.clock.advance({ days: 2 });
    await h.core.orders.expireOrders();
    expect((await usage(h.ds, q)).used).toBe(2);
    expect((await h.core.payments.confirmPayment(a.paymentId, { actor: card })).kind).toBe('order_paid'); // late payment revives
    expect((await usage(h.ds, q)).used).toBe(5);

    await h.core.orders.cancelOrder(b.order.id, { actor: admin });
    expect((await usage(h.ds, q)).used).toBe(3);
    await h.core.orders.cancelOrder(a.order.id, { actor: admin, cancellationFee: money(500, 'EUR') }); // positions canceled, order kept
    expect(await usage(h.ds, q)).toEqual({ used: 0, counted: 0 });
  });

  it('refuses by the counter: a full quota frees seats when an order expires, and takes them back only while they are free', async () => {
    const shop = await h.shop({ quotaSize: 2 });
    const first = await h.order(shop, { count: 2 });
    expect(await errorCode(h.order(shop))).toBe('ORDER_QUOTA_EXCEEDED');
    h.clock.advance({ days: 15 });
    await h.core.orders.expireOrders();
    const second = await h.order(shop);
    expect(second.order.status).toBe('pending');
    // Only one seat is left: the expired order of two cannot come back without force.
    expect(await errorCode(h.core.orders.extendOrder(first.order.id, new Date(h.clock.now().getTime() + 86_400_000), { actor: admin })))
      .toBe('ORDER_QUOTA_EXCEEDED');
    expect((await usage(h.ds, shop.quota.id)).used).toBe(1);
    await h.core.orders.extendOrder(first.order.id, new Date(h.clock.now().getTime() + 86_400_000), { actor: admin, force: true });
    expect((await usage(h.ds, shop.quota.id)).used).toBe(3); // forced: oversold on purpose, and counted as such
  });

  it('stays right when rows are changed by hand (control panel, psql, fixtures)', async () => {
    const shop = await h.shop({ quotaSize: 10 });
    const q = shop.quota.id;
    const a = await h.order(shop, { count: 2 });
    await h.order(shop, { count: 1 });
    await h.ds.query(`UPDATE kassa_order SET status = 'expired' WHERE id = $1`, [a.order.id]);
    expect((await usage(h.ds, q)).used).toBe(1);
    await h.ds.query(`UPDATE kassa_order SET status = 'pending' WHERE id = $1`, [a.order.id]);
    expect((await usage(h.ds, q)).used).toBe(3);
    const [pos] = await h.ds.manager.findBy(OrderPosition, { orderId: a.order.id });
    await h.ds.query('UPDATE order_position SET canceled = true WHERE id = $1', [pos!.id]);
    expect((await usage(h.ds, q)).used).toBe(2);
    await h.ds.query('UPDATE order_position SET attendee_name = NULL WHERE order_id = $1', [a.order.id]); // no change in what counts
    expect((await usage(h.ds, q)).used).toBe(2);
    await h.ds.query('DELETE FROM order_position WHERE id = $1', [pos!.id]); // a canceled one: nothing changes
    const [other] = await h.ds.manager.findBy(OrderPosition, { orderId: a.order.id });
    await h.ds.query('DELETE FROM order_position WHERE id = $1', [other!.id]);
    expect((await usage(h.ds, q)).used).toBe(1);

    // A product joining a quota after sales brings its sold tickets along; leaving takes them away.
    const extra = await createProduct(h.ds, shop.event.id, { price: 500 });
    const wide = await createQuota(h.ds, shop.event.id, [extra], 100, 'Wide');
    await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: [{ productId: extra.id }], provider: 'card' });
    expect((await usage(h.ds, wide.id)).used).toBe(1);
    await h.ds.query('INSERT INTO quota_product (quota_id, product_id) VALUES ($1, $2)', [wide.id, shop.product.id]);
    expect((await usage(h.ds, wide.id)).used).toBe(2);
    await h.ds.query('DELETE FROM quota_product WHERE quota_id = $1 AND product_id = $2', [wide.id, shop.product.id]);
    expect((await usage(h.ds, wide.id)).used).toBe(1);
  });

  it('never oversells nor deadlocks with buyers and the expiry job crossing two quotas', async () => {
    const shop = await h.shop({ quotaSize: 30 });
    const other = await createProduct(h.ds, shop.event.id, { price: 700 });
    const otherQuota = await createQuota(h.ds, shop.event.id, [other], 30, 'Other');
    // Orders due for expiry in both quotas, so the job lowers both counters while buyers raise them.
    const due: string[] = [];
    for (let i = 0; i < 6; i++) {
      due.push((await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, provider: 'card', positions: [{ productId: i % 2 ? other.id : shop.product.id }] })).order.id);
    }
    h.clock.advance({ days: 15 });
    const buy = (i: number) => h.core.orders.placeOrder({
      eventId: shop.event.id, email: null, provider: 'card',
      positions: i % 2 ? [{ productId: shop.product.id }, { productId: other.id }] : [{ productId: other.id }, { productId: shop.product.id }],
    });
    const results = await Promise.allSettled([...Array.from({ length: 40 }, (_, i) => buy(i)), h.core.orders.expireOrders()]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as { code?: string }).code);
    expect(new Set(failures)).toEqual(new Set(['ORDER_QUOTA_EXCEEDED'])); // never a deadlock or any other error
    const [expired] = await h.ds.query(`SELECT count(*)::int AS n FROM kassa_order WHERE id = ANY($1::uuid[]) AND status = 'expired'`, [due]);
    expect(expired.n).toBe(6);
    // Each order takes one seat in each quota. Seats freed by the job count only for buyers that
    // came after it, so between 27 and 30 of the 40 get through, and never more than 30.
    const sold = 40 - failures.length;
    expect(sold).toBeGreaterThanOrEqual(27);
    expect(sold).toBeLessThanOrEqual(30);
    expect((await usage(h.ds, shop.quota.id)).used).toBe(sold);
    expect((await usage(h.ds, otherQuota.id)).used).toBe(sold);
  });

  it('is backfilled by its migration from the orders already there', async () => {
    const shop = await h.shop({ quotaSize: 50 });
    await h.order(shop, { count: 4 });
    const migration = coreMigrations.map((M) => new M()).find((m) => m.name === 'QuotaUsage1764000000000');
    const runner = h.ds.createQueryRunner();
    try {
      await migration!.down(runner);
      await migration!.up(runner);
    } finally {
      await runner.release();
    }
    expect(await usage(h.ds, shop.quota.id)).toEqual({ used: 4, counted: 4 });
  });
});
