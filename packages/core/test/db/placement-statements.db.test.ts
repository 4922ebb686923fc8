import { randomBytes, randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { coreMigrations } from '../../src/db/migrations';
import { PlacementBatcher, type OrderRows } from '../../src/persistence/placement-batch';
import { createCoreHarness, type CoreHarness } from './core-harness';

/**
 * Migration 1769310000000 and the quota lanes (persistence/quota-lane.ts): what placing orders
 * from held carts runs inside PostgreSQL. The PL/pgSQL calls are counted in the placement's own
 * transaction (pg_stat_xact_user_functions): before the migration one placement statement called
 * kassa_cart_held, kassa_cart_held_by and, from the positions' trigger, kassa_quota_usage_add.
 */
describe('what a placement runs inside PostgreSQL', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  async function calls(runner: QueryRunner): Promise<Record<string, number>> {
    const rows = await runner.query('SELECT funcname, calls::int AS n FROM pg_stat_xact_user_functions WHERE schemaname = $1', [h.db.schema]) as
      { funcname: string; n: number }[];
    return Object.fromEntries(rows.map((c) => [c.funcname, c.n]));
  }

  function diff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
    return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)] as const).filter(([, v]) => v !== 0));
  }

  it('four orders in two statements: per statement one hold read and the two triggers, nothing called from them; the books stay exact', async () => {
    const shop = await h.shop({ quotaSize: 5 });
    const carts = [randomUUID(), randomUUID(), randomUUID()];
    for (const cartId of carts) await h.core.carts.reserve({ eventId: shop.event.id, cartId, lines: [{ productId: shop.product.id, quantity: 1 }] });
    // Two more seats held by a cart that does not order: the quota is full with holds.
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: shop.product.id, quantity: 2 }] });
    const order = (cartId: string | null): OrderRows => {
      const id = randomUUID();
      return {
        id, organizerId: shop.organizer.id, eventId: shop.event.id, code: randomBytes(4).toString('hex').toUpperCase(), secret: randomUUID(),
        email: 'buyer@example.org', locale: 'en', total: shop.product.price, currency: shop.event.currency, expires: new Date('2031-01-01T00:00:00Z'),
        testmode: false, idempotencyKey: null, country: null, feeId: null, fee: 0, providerId: 'card', paymentId: randomUUID(), paymentInitiated: false,
        actor: { type: 'buyer' }, logData: {}, eventPayload: { orderId: id }, positions: [{ productId: shop.product.id, price: shop.product.price, attendeeName: null }],
        cartId,
      };
    };
    const pricedFrom = { paymentTermDays: shop.event.paymentTermDays, locale: shop.event.locale, paymentTermLast: shop.event.paymentTermLast };
    const runner = h.ds.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query("SET LOCAL track_functions = 'pl'");
      const before = await calls(runner);
      // The batcher on this transaction: its first statement carries the first order alone, the next the others together.
      const placer = new PlacementBatcher(runner.manager, () => h.clock.now());
      const outcomes = await Promise.allSettled([order(carts[0]!), order(carts[1]!), order(carts[2]!), order(null)].map((o) => placer.place(o, pricedFrom)));
      const after = await calls(runner);
      await runner.commitTransaction();
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.kind : (o.reason as { code?: string }).code)))
        .toEqual(['placed', 'placed', 'placed', 'ORDER_QUOTA_EXCEEDED']);
      // Two statements: per statement one call reading all holds and the carts' own, and the positions'
      // trigger and the cart rows' delete trigger once each; nothing called from them.
      expect(diff(before, after)).toEqual({ kassa_cart_holds: 2, kassa_quota_usage_positions: 2, kassa_quota_hold_rows: 2 });
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    const [books] = await h.ds.query(
      `SELECT (SELECT used FROM quota_usage WHERE quota_id = $1) AS used,
              (SELECT coalesce(sum(n), 0)::int FROM quota_hold WHERE quota_id = $1 AND expires > $2) AS held,
              (SELECT count(*)::int FROM cart_reservation WHERE cart_id = ANY($3::uuid[])) AS left`,
      [shop.quota.id, h.clock.now().toISOString(), carts]) as { used: number; held: number; left: number }[];
    expect(books).toEqual({ used: 3, held: 2, left: 0 });
  });

  it('a batch turns a hold plus free seats into an order, and the order behind it that no longer fits is refused with the usage it saw', async () => {
    const shop = await h.shop({ quotaSize: 5 });
    const [c, a, b] = [randomUUID(), randomUUID(), randomUUID()];
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: c, lines: [{ productId: shop.product.id, quantity: 1 }] });
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 2 }] });
    // Held by a cart that does not order: counts as used throughout.
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: b, lines: [{ productId: shop.product.id, quantity: 1 }] });
    const order = (cartId: string | null, tickets: number): OrderRows => {
      const id = randomUUID();
      return {
        id, organizerId: shop.organizer.id, eventId: shop.event.id, code: randomBytes(4).toString('hex').toUpperCase(), secret: randomUUID(),
        email: null, locale: 'en', total: shop.product.price * tickets, currency: shop.event.currency, expires: new Date('2031-01-01T00:00:00Z'),
        testmode: false, idempotencyKey: null, country: null, feeId: null, fee: 0, providerId: null, paymentId: null, paymentInitiated: false,
        actor: { type: 'buyer' }, logData: {}, eventPayload: { orderId: id },
        positions: Array.from({ length: tickets }, () => ({ productId: shop.product.id, price: shop.product.price, attendeeName: null })), cartId,
      };
    };
    const pricedFrom = { paymentTermDays: shop.event.paymentTermDays, locale: shop.event.locale, paymentTermLast: shop.event.paymentTermLast };
    const placer = new PlacementBatcher(h.ds.manager, () => h.clock.now());
    // The first statement carries cart c's order alone; the next one a's and the cartless one together.
    // a wants 3 with 2 held: it takes 1 of the 1 free seat (used 1 + held 3 + 1 = 5). Behind it, the
    // cartless order saw used 1, holds 3 and a's extra seat: 5 of 5, none left.
    const outcomes = await Promise.allSettled([order(c, 1), order(a, 3), order(null, 1)].map((o) => placer.place(o, pricedFrom)));
    expect(outcomes.slice(0, 2).map((o) => o.status === 'fulfilled' && o.value.kind)).toEqual(['placed', 'placed']);
    const refused = outcomes[2]!;
    expect(refused.status === 'rejected' && refused.reason).toMatchObject({ code: 'ORDER_QUOTA_EXCEEDED', params: { detail: 'quota "Quota" has 0 left, 1 requested' } });
    const [books] = await h.ds.query(
      `SELECT (SELECT used FROM quota_usage WHERE quota_id = $1) AS used,
              (SELECT coalesce(sum(n), 0)::int FROM quota_hold WHERE quota_id = $1 AND expires > $2) AS held,
              (SELECT array_agg(cart_id::text) FROM cart_reservation WHERE cart_id = ANY($3::uuid[])) AS carts,
              (SELECT count(*)::int FROM order_position op JOIN kassa_order o ON o.id = op.order_id WHERE o.event_id = $4) AS positions`,
      [shop.quota.id, h.clock.now().toISOString(), [a, b, c], shop.event.id]) as { used: number; held: number; carts: string[]; positions: number }[];
    expect(books).toEqual({ used: 4, held: 1, carts: [b], positions: 4 });
  });

  it('goes down to the functions before it and up again', async () => {
    const source = async (name: string) => ((await h.ds.query(
      `SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2`,
      [h.db.schema, name])) as { prosrc: string }[])[0]?.prosrc ?? null;
    const ours = coreMigrations.map((M) => new M()).find((m) => m.name === 'PlacementFewerCalls1769310000000')!;
    const runner = h.ds.createQueryRunner();
    try {
      await ours.down(runner);
      expect(await source('kassa_cart_holds')).toBeNull();
      expect(await source('kassa_quota_usage_positions')).toContain('PERFORM kassa_quota_usage_add(ids, deltas)');
      await ours.up(runner);
    } finally {
      await runner.release();
    }
    expect(await source('kassa_cart_holds')).not.toBeNull();
    expect(await source('kassa_quota_usage_positions')).not.toContain('kassa_quota_usage_add');
  });

  it('sends a reservation of an event only once the placement statement of that event in flight is done', async () => {
    const shop = await h.shop({ quotaSize: 100 });
    // Another connection holds the quota's row lock, so the first statement of this process waits in PostgreSQL.
    const locker = h.ds.createQueryRunner();
    await locker.connect();
    const [{ pid }] = await locker.query('SELECT pg_backend_pid() AS pid') as [{ pid: number }];
    // Backends waiting behind the locker: the first waits for its transaction, any later one for the
    // row's lock, which the first holds.
    const blocked = async () => ((await h.ds.query(
      `WITH first AS (SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid)))
       SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE pg_blocking_pids(pid) && (ARRAY[$1::int] || ARRAY(SELECT pid FROM first))`, [pid])) as [{ n: number }])[0].n;
    const until = async (done: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10));
    };
    let placed: Promise<unknown> = Promise.resolve(null);
    let reserved: Promise<unknown> = Promise.resolve(null);
    try {
      await locker.startTransaction();
      await locker.query('SELECT 1 FROM quota WHERE id = $1 FOR UPDATE', [shop.quota.id]);
      placed = h.order(shop);
      await until(async () => (await blocked()) === 1);
      expect(await blocked()).toBe(1);
      reserved = h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: shop.product.id, quantity: 1 }] });
      // Sent at once, the reservation statement would wait for the same lock as a second backend.
      await until(async () => (await blocked()) > 1);
      expect(await blocked()).toBe(1);
    } finally {
      if (locker.isTransactionActive) await locker.commitTransaction();
      await locker.release();
    }
    await expect(placed).resolves.toBeDefined();
    await expect(reserved).resolves.toMatchObject({ ok: true });
  });
});
