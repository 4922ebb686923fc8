import { randomUUID } from 'node:crypto';
import { CatalogStore } from '@kassa/core/host';
import { createProduct, createQuota } from '@kassa/testing';
import { createCoreHarness, errorCode, type CoreHarness } from './core-harness';

/** Tickets sold (live positions of quota-holding orders) and held (unexpired holds) on the event, read in one statement. */
async function soldAndHeld(h: CoreHarness, eventId: string): Promise<{ sold: number; held: number }> {
  const [row] = await h.ds.query(
    `SELECT (SELECT count(*)::int FROM order_position op JOIN kassa_order o ON o.id = op.order_id
              WHERE o.event_id = $1 AND NOT op.canceled AND o.status IN ('pending', 'paid')) AS sold,
            (SELECT coalesce(sum(quantity), 0)::int FROM cart_reservation WHERE event_id = $1 AND expires > $2) AS held`,
    [eventId, h.clock.now().toISOString()]);
  return row;
}

describe('cart reservations (core)', () => {
  let h: CoreHarness;
  const start = '2030-03-01T10:00:00Z';
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  afterEach(() => { h.clock.set(start); });

  it('holds tickets for the event\'s reservation time; others see them as unavailable, and asking again extends the hold', async () => {
    const shop = await h.shop({ quotaSize: 5, event: { reservationMinutes: 30 } });
    const a = randomUUID();
    const held = await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 3 }] });
    expect(held).toEqual({ ok: true, hold: { lines: [{ productId: shop.product.id, quantity: 3 }], expires: new Date('2030-03-01T10:30:00Z') } });
    const b = await h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: shop.product.id, quantity: 3 }] });
    expect(b).toEqual({ ok: false, reason: 'full', left: new Map([[shop.product.id, 2]]) });
    const catalog = new CatalogStore(h.ds);
    expect((await catalog.availability(shop.event.id, h.clock.now())).get(shop.product.id)).toBe(2);
    // An order without a cart takes only what is free.
    expect(await errorCode(h.order(shop, { count: 3 }))).toBe('ORDER_QUOTA_EXCEEDED');
    h.clock.advance({ minutes: 10 });
    const again = await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 3 }] });
    expect(again.ok && again.hold.expires.toISOString()).toBe('2030-03-01T10:40:00.000Z');
    expect((await h.core.carts.held(a))?.expires.toISOString()).toBe('2030-03-01T10:40:00.000Z');
  });

  it('frees an expired hold without any job, and the same cart gets it back if still free', async () => {
    const shop = await h.shop({ quotaSize: 2, event: { reservationMinutes: 15 } });
    const a = randomUUID();
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 2 }] });
    const catalog = new CatalogStore(h.ds);
    const detail = await catalog.availabilityDetail(shop.event.id, h.clock.now());
    expect(detail.left.get(shop.product.id)).toBe(0);
    expect(detail.reserved.has(shop.product.id)).toBe(true);
    h.clock.advance({ minutes: 15, seconds: 1 });
    expect(await h.core.carts.held(a)).toBeNull();
    expect((await catalog.availability(shop.event.id, h.clock.now())).get(shop.product.id)).toBe(2);
    const back = await h.core.carts.reserveWhatFits({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 2 }] });
    expect(back).toMatchObject({ adjusted: false, hold: { lines: [{ productId: shop.product.id, quantity: 2 }] } });
  });

  it('after expiry, another buyer may take the seats; the first buyer gets what is left and is told so', async () => {
    const shop = await h.shop({ quotaSize: 3 });
    const a = randomUUID();
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 2 }] });
    h.clock.advance({ minutes: 31 });
    const b = randomUUID();
    expect((await h.core.carts.reserve({ eventId: shop.event.id, cartId: b, lines: [{ productId: shop.product.id, quantity: 2 }] })).ok).toBe(true);
    // B's reservation tidied A's expired row away under the lock.
    const rows = await h.ds.query('SELECT cart_id FROM cart_reservation WHERE event_id = $1', [shop.event.id]);
    expect(rows).toEqual([{ cart_id: b }]);
    const back = await h.core.carts.reserveWhatFits({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 2 }] });
    expect(back).toMatchObject({ adjusted: true, hold: { lines: [{ productId: shop.product.id, quantity: 1 }] } });
    const none = await h.core.carts.reserveWhatFits({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: shop.product.id, quantity: 1 }] });
    expect(none).toMatchObject({ adjusted: true, hold: { lines: [] } });
  });

  it('placing the order turns the hold into the order\'s quota use in the same statement, and never takes more than held + free', async () => {
    const shop = await h.shop({ quotaSize: 4 });
    const a = randomUUID();
    const b = randomUUID();
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 2 }] });
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: b, lines: [{ productId: shop.product.id, quantity: 1 }] });
    const positions = (n: number) => Array.from({ length: n }, () => ({ productId: shop.product.id }));
    // A holds 2 and 1 is free: 4 positions are more than that.
    expect(await errorCode(h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: positions(4), provider: 'card', cartId: a })))
      .toBe('ORDER_QUOTA_EXCEEDED');
    const placed = await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: positions(3), provider: 'card', cartId: a });
    expect(placed.positions).toHaveLength(3);
    expect(await h.core.carts.held(a)).toBeNull();
    expect(await soldAndHeld(h, shop.event.id)).toEqual({ sold: 3, held: 1 });
    // B's held seat is B's: nobody else gets it, B does.
    expect(await errorCode(h.order(shop))).toBe('ORDER_QUOTA_EXCEEDED');
    await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: positions(1), provider: 'card', cartId: b });
    expect(await soldAndHeld(h, shop.event.id)).toEqual({ sold: 4, held: 0 });
  });

  it('a free order (transactional path) also uses its cart\'s hold and respects the others\'', async () => {
    const shop = await h.shop({ quotaSize: 2, price: 0 });
    const a = randomUUID();
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 1 }] });
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: shop.product.id, quantity: 1 }] });
    expect(await errorCode(h.order(shop))).toBe('ORDER_QUOTA_EXCEEDED');
    const placed = await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: [{ productId: shop.product.id }], cartId: a });
    expect(placed.order.status).toBe('paid');
    expect(await soldAndHeld(h, shop.event.id)).toEqual({ sold: 1, held: 1 });
  });

  it('holds count against reviving an expired order, as in pretix', async () => {
    const shop = await h.shop({ quotaSize: 1 });
    const { order } = await h.order(shop);
    await h.core.orders.expireOrders(new Date('2030-04-01T00:00:00Z'));
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: shop.product.id, quantity: 1 }] });
    expect(await errorCode(h.core.orders.extendOrder(order.id, new Date('2030-05-01T00:00:00Z'), { actor: { type: 'user', id: 'admin' } })))
      .toBe('ORDER_QUOTA_EXCEEDED');
  });

  it('refuses products of another event, inactive or in no quota, bad ids and quantities, and changes nothing', async () => {
    const shop = await h.shop({ quotaSize: 5 });
    const other = await h.shop({ quotaSize: 5 });
    const unlisted = await createProduct(h.ds, shop.event.id, { price: 100 });
    const cartId = randomUUID();
    expect(await h.core.carts.reserve({ eventId: shop.event.id, cartId, lines: [{ productId: other.product.id, quantity: 1 }] }))
      .toEqual({ ok: false, reason: 'unavailable', product: other.product.id });
    expect(await h.core.carts.reserve({ eventId: shop.event.id, cartId, lines: [{ productId: unlisted.id, quantity: 1 }] }))
      .toEqual({ ok: false, reason: 'unavailable', product: unlisted.id });
    expect(await errorCode(h.core.carts.reserve({ eventId: shop.event.id, cartId: 'not-a-uuid', lines: [{ productId: shop.product.id, quantity: 1 }] }))).toBe('VALIDATION_FAILED');
    expect(await errorCode(h.core.carts.reserve({ eventId: shop.event.id, cartId, lines: [{ productId: shop.product.id, quantity: 0 }] }))).toBe('VALIDATION_FAILED');
    expect(await errorCode(h.core.carts.reserve({ eventId: shop.event.id, cartId, lines: [] }))).toBe('ORDER_EMPTY');
    expect(await h.core.carts.held(cartId)).toBeNull();
  });

  it('two products sharing a quota: the hold counts for both, and a new cart content replaces the old one', async () => {
    const shop = await h.shop({ quotaSize: null });
    const vip = await createProduct(h.ds, shop.event.id, { price: 9000 });
    await createQuota(h.ds, shop.event.id, [shop.product, vip], 3);
    const a = randomUUID();
    expect((await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 2 }, { productId: vip.id, quantity: 1 }] })).ok).toBe(true);
    const b = randomUUID();
    expect(await h.core.carts.reserve({ eventId: shop.event.id, cartId: b, lines: [{ productId: vip.id, quantity: 1 }] }))
      .toEqual({ ok: false, reason: 'full', left: new Map([[vip.id, 0]]) });
    expect((await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: vip.id, quantity: 1 }] })).ok).toBe(true);
    expect((await h.core.carts.held(a))?.lines).toEqual([{ productId: vip.id, quantity: 1 }]);
    expect((await h.core.carts.reserve({ eventId: shop.event.id, cartId: b, lines: [{ productId: vip.id, quantity: 2 }] })).ok).toBe(true);
    await h.core.carts.release(a);
    expect(await h.core.carts.held(a)).toBeNull();
  });

  it('decides the requests of one batch in queue order exactly as if each had come alone, and writes what they decided', async () => {
    // The same nine requests, once as one batch (one kassa_cart_reserve call) and once one call each, on two equal shops.
    const decide = async (batched: boolean) => {
      const shop = await h.shop({ quotaSize: 4 });
      const elsewhere = await h.shop({ quotaSize: 4 });
      const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const asks: [string, string, number][] = [
        [a, shop.product.id, 3], [b, shop.product.id, 2], [a, shop.product.id, 1], [b, shop.product.id, 3], [c, shop.product.id, 1],
        [d, elsewhere.product.id, 1], [d, shop.product.id, 0], [c, shop.product.id, 1], [b, shop.product.id, 2],
      ];
      const requests = asks.map(([cart, product, n], idx) => ({
        idx, cart_id: cart, event_id: shop.event.id, products: n > 0 ? [product] : [], quantities: n > 0 ? [n] : [],
      }));
      const at = h.clock.now().toISOString();
      const call = (list: typeof requests) => h.ds.query('SELECT r.idx, r.ok, r.bad, r.quotas FROM kassa_cart_reserve($1::jsonb, $2) r', [JSON.stringify(list), at]) as
        Promise<{ idx: number; ok: boolean; bad: string | null; quotas: { used: number; size: number }[] }[]>;
      const rows = batched ? await call(requests) : [];
      if (!batched) for (const r of requests) rows.push({ ...(await call([{ ...r, idx: 0 }]))[0]!, idx: r.idx });
      const held = await h.ds.query('SELECT cart_id::text AS cart, quantity FROM cart_reservation WHERE event_id = $1 ORDER BY quantity', [shop.event.id]) as
        { cart: string; quantity: number }[];
      const [counter] = await h.ds.query('SELECT coalesce(sum(n), 0)::int AS n FROM quota_hold WHERE quota_id = $1 AND expires > $2', [shop.quota.id, at]);
      const name = new Map<string, string>([[a, 'a'], [b, 'b'], [c, 'c'], [d, 'd']]);
      return {
        decided: rows.map((r) => ({ ok: r.ok, bad: r.bad === elsewhere.product.id ? 'elsewhere' : r.bad, used: r.quotas.map((q) => q.used) })),
        held: held.map((r) => [name.get(r.cart), r.quantity]), counter: counter.n,
      };
    };
    const one = await decide(false);
    const batch = await decide(true);
    expect(batch).toEqual(one);
    expect(batch.decided.map((r) => r.ok)).toEqual([true, false, true, true, false, false, true, false, true]);
    // What each saw: others' holds only (its own cart's hold is replaced, so it does not count).
    expect(batch.decided.map((r) => r.used)).toEqual([[0], [3], [0], [1], [4], [0], [], [4], [1]]);
    expect(batch.held).toEqual([['a', 1], ['b', 2]]);
    expect(batch.counter).toBe(3);
  });

  it('keeps the per-quota hold counter equal to the holds themselves, also when a product joins a quota', async () => {
    const shop = await h.shop({ quotaSize: 50 });
    const other = await createProduct(h.ds, shop.event.id, { price: 500 });
    const second = await createQuota(h.ds, shop.event.id, [other], 10);
    const counted = async () => h.ds.query(
      `SELECT c.quota_id::text AS quota, c.n, r.n AS rows FROM
         (SELECT quota_id, sum(n)::int AS n FROM quota_hold WHERE quota_id = ANY($1::uuid[]) AND expires > $2 GROUP BY quota_id) c
         FULL JOIN (SELECT qp.quota_id, sum(r.quantity)::int AS n FROM cart_reservation r JOIN quota_product qp ON qp.product_id = r.product_id
                     WHERE qp.quota_id = ANY($1::uuid[]) AND r.expires > $2 GROUP BY qp.quota_id) r ON r.quota_id = c.quota_id
        ORDER BY 1`, [[shop.quota.id, second.id], h.clock.now().toISOString()]) as Promise<{ quota: string; n: number; rows: number }[]>;
    const carts = [randomUUID(), randomUUID(), randomUUID()];
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: carts[0]!, lines: [{ productId: shop.product.id, quantity: 3 }] });
    h.clock.advance({ seconds: 20 });
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: carts[1]!, lines: [{ productId: shop.product.id, quantity: 2 }, { productId: other.id, quantity: 4 }] });
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: carts[0]!, lines: [{ productId: other.id, quantity: 1 }] });
    await h.core.orders.placeOrder({ eventId: shop.event.id, email: null, provider: 'card', cartId: carts[1], positions: [{ productId: shop.product.id }] });
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: carts[2]!, lines: [{ productId: shop.product.id, quantity: 1 }] });
    await h.core.carts.release(carts[2]!);
    for (const row of await counted()) expect(row.n).toBe(row.rows);
    expect((await counted()).map((r) => r.n).sort()).toEqual([1]);
    // The product joins the first quota too: that quota is recounted.
    await h.ds.query('INSERT INTO quota_product (quota_id, product_id) VALUES ($1, $2)', [shop.quota.id, other.id]);
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: other.id, quantity: 2 }] });
    const after = await counted();
    expect(after).toEqual([{ quota: expect.any(String), n: 3, rows: 3 }, { quota: expect.any(String), n: 3, rows: 3 }]);
    // Expired, nothing counts; the next reservation of the product tidies rows and buckets away.
    h.clock.advance({ minutes: 40 });
    expect(await counted()).toEqual([]);
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: other.id, quantity: 1 }] });
    const [left] = await h.ds.query('SELECT count(*)::int AS n FROM quota_hold WHERE quota_id = ANY($1::uuid[]) AND expires <= $2',
      [[shop.quota.id, second.id], h.clock.now().toISOString()]);
    expect(left.n).toBe(0);
  });
});
