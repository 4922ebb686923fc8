import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { coreMigrations } from '../../src/db/migrations';
import { createCoreHarness, type CoreHarness } from './core-harness';

/**
 * Migration 1769300000000: a reservation runs fewer statements inside PostgreSQL. Counted in the
 * reservation's own transaction (pg_stat_xact_*, which need no server setting): the PL/pgSQL
 * functions it calls, and how often it scans each table. The same reservation on the function and
 * triggers as before the migration (its down) calls kassa_cart_held, kassa_cart_held_by and
 * kassa_quota_hold_apply, and scans quota_product and quota_hold more often.
 */
describe('what one reservation runs inside PostgreSQL', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  interface Work { calls: Record<string, number>; scans: Record<string, number>; ok: boolean }

  /** The PL/pgSQL calls and table scans counted so far by this backend (not yet flushed to the shared statistics). */
  async function counts(runner: QueryRunner): Promise<{ calls: Record<string, number>; scans: Record<string, number> }> {
    const calls = await runner.query('SELECT funcname, calls::int AS n FROM pg_stat_xact_user_functions WHERE schemaname = $1', [h.db.schema]) as
      { funcname: string; n: number }[];
    const scans = await runner.query(
      `SELECT relname, (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::int AS n FROM pg_stat_xact_user_tables WHERE schemaname = $1`,
      [h.db.schema]) as { relname: string; n: number }[];
    return { calls: Object.fromEntries(calls.map((c) => [c.funcname, c.n])), scans: Object.fromEntries(scans.map((s) => [s.relname, s.n])) };
  }

  /** What changed between two counts, without the zeros. */
  function diff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
    return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)] as const).filter(([, v]) => v !== 0));
  }

  /**
   * One kassa_cart_reserve call of `requests`, with the function calls and table scans it made: the
   * counts read just before and just after it, in one transaction (a backend flushes its counts
   * only between transactions, so nothing else moves them in between).
   */
  async function reserveCounted(requests: object[]): Promise<Work> {
    const runner = h.ds.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query("SET LOCAL track_functions = 'pl'");
      const before = await counts(runner);
      const rows = await runner.query('SELECT r.ok FROM kassa_cart_reserve($1::jsonb, $2::timestamptz) r',
        [JSON.stringify(requests), h.clock.now().toISOString()]) as { ok: boolean }[];
      const after = await counts(runner);
      await runner.commitTransaction();
      // The two reads of the counts scan no table of the schema, so what moved is the reservation's.
      return { ok: rows.every((r) => r.ok), calls: diff(before.calls, after.calls), scans: diff(before.scans, after.scans) };
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }

  const total = (scans: Record<string, number>) => Object.values(scans).reduce((a, b) => a + b, 0);

  it('calls no helper function and scans the tables fewer times than before migration 1769300000000; the counter stays exact', async () => {
    const shop = await h.shop({ quotaSize: 100 });
    const ask = (cart: string, n = 1) => ({ idx: 0, cart_id: cart, event_id: shop.event.id, products: [shop.product.id], quantities: [n] });
    const counter = async () => (await h.ds.query(
      `SELECT (SELECT coalesce(sum(n), 0)::int FROM quota_hold WHERE quota_id = $1 AND expires > $2) AS counted,
              (SELECT coalesce(sum(quantity), 0)::int FROM cart_reservation WHERE product_id = $3 AND expires > $2) AS held,
              (SELECT count(*)::int FROM quota_hold WHERE quota_id = $1 AND n = 0) AS empty`,
      [shop.quota.id, h.clock.now().toISOString(), shop.product.id]))[0] as { counted: number; held: number; empty: number };
    // Plans and caches first, so that both versions are counted warm.
    await reserveCounted([ask(randomUUID())]);

    const ours = coreMigrations.map((M) => new M()).find((m) => m.name === 'CartReserveFewerStatements1769300000000')!;
    const runner = h.ds.createQueryRunner();
    let old: Work, oldAgain: Work;
    try {
      await ours.down(runner);
      await reserveCounted([ask(randomUUID())]);
      old = await reserveCounted([ask(randomUUID())]);
      const cart = randomUUID();
      await reserveCounted([ask(cart)]);
      oldAgain = await reserveCounted([ask(cart, 2)]);
      await ours.up(runner);
    } finally {
      await runner.release();
    }
    await reserveCounted([ask(randomUUID())]);
    const now = await reserveCounted([ask(randomUUID())]);
    const cart = randomUUID();
    await reserveCounted([ask(cart)]);
    const again = await reserveCounted([ask(cart, 2)]);

    expect([old.ok, oldAgain.ok, now.ok, again.ok]).toEqual([true, true, true, true]);
    // Before: the helper functions, and the jsonb apply step once per trigger with rows.
    expect(old.calls).toEqual({ kassa_cart_reserve: 1, kassa_cart_held: 1, kassa_cart_held_by: 1, kassa_quota_hold_rows: 3, kassa_quota_hold_apply: 1 });
    expect(oldAgain.calls).toEqual({ kassa_cart_reserve: 1, kassa_cart_held: 1, kassa_cart_held_by: 1, kassa_quota_hold_rows: 3, kassa_quota_hold_apply: 1 });
    // Now: the function and the three statement triggers of its one write statement (delete, insert, update).
    expect(now.calls).toEqual({ kassa_cart_reserve: 1, kassa_quota_hold_rows: 3 });
    expect(again.calls).toEqual({ kassa_cart_reserve: 1, kassa_quota_hold_rows: 3 });
    expect(now.scans.quota_product).toBeLessThan(old.scans.quota_product!);
    expect(total(now.scans)).toBeLessThan(total(old.scans));
    expect(total(again.scans)).toBeLessThan(total(oldAgain.scans));
    // The hold counter equals the holds, and no bucket is left at zero.
    expect(await counter()).toEqual({ counted: 9, held: 9, empty: 0 });
  });

  it('keeps the counter exact when a cart changes what it holds and when holds expire and are tidied', async () => {
    const shop = await h.shop({ quotaSize: 20 });
    const counted = async () => (await h.ds.query(
      `SELECT (SELECT coalesce(sum(n), 0)::int FROM quota_hold WHERE quota_id = $1) AS counted,
              (SELECT coalesce(sum(quantity), 0)::int FROM cart_reservation WHERE product_id = $2) AS rows,
              (SELECT count(*)::int FROM quota_hold WHERE quota_id = $1) AS buckets`,
      [shop.quota.id, shop.product.id]))[0] as { counted: number; rows: number; buckets: number };
    const a = randomUUID();
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 3 }] });
    h.clock.advance({ minutes: 2 });
    // The same cart again: its row moves to a later bucket, the old bucket comes to zero and goes.
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: a, lines: [{ productId: shop.product.id, quantity: 2 }] });
    expect(await counted()).toEqual({ counted: 2, rows: 2, buckets: 1 });
    const b = randomUUID();
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: b, lines: [{ productId: shop.product.id, quantity: 4 }] });
    expect(await counted()).toEqual({ counted: 6, rows: 6, buckets: 1 });
    // Both expire; the next reservation of the product tidies their rows and their bucket away.
    h.clock.advance({ minutes: 31 });
    await h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: shop.product.id, quantity: 1 }] });
    expect(await counted()).toEqual({ counted: 1, rows: 1, buckets: 1 });
    await h.core.carts.release(b);
    await h.core.carts.release(a);
    expect(await counted()).toEqual({ counted: 1, rows: 1, buckets: 1 });
  });

  it('keeps its generic plans setting, also after going down and up again', async () => {
    const config = async () => ((await h.ds.query(
      `SELECT p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = 'kassa_cart_reserve'`,
      [h.db.schema])) as { proconfig: string[] | null }[])[0]!.proconfig;
    expect(await config()).toEqual(['plan_cache_mode=force_generic_plan']);
    const ours = coreMigrations.map((M) => new M()).find((m) => m.name === 'CartReserveFewerStatements1769300000000')!;
    const runner = h.ds.createQueryRunner();
    try {
      await ours.down(runner);
      expect(await config()).toEqual(['plan_cache_mode=force_generic_plan']);
      await ours.up(runner);
    } finally {
      await runner.release();
    }
    expect(await config()).toEqual(['plan_cache_mode=force_generic_plan']);
  });
});
