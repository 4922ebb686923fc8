/**
 * PostgreSQL's own work for cart reservations, one kassa_cart_reserve call at a time on one
 * connection: BENCH_BATCH requests per call (default 1, a lone buyer; the shop's batches are a few
 * requests), each a new cart holding one ticket, then the same carts asking again (the hold extended,
 * the UPDATE path). The clock moves a second per call, so a new hold-counter bucket starts every
 * minute as in a rush. Without lock waits the backend's CPU per reservation hardly depends on what
 * else the machine runs. Prints, per reservation: the backend's CPU, WAL bytes and records, and the
 * statements run inside PostgreSQL (pg_stat_statements with `track = all`, if loaded; it is reset).
 *
 *   DATABASE_URL=postgres://… TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/core/bench/cart-reserve.bench.ts [calls]
 *
 * BENCH_BEFORE=1 runs migration 1769300000000's down first: the function and triggers as before it,
 * in the same build, so both can be run alternately. Creates and drops a schema of its own.
 */
import { randomUUID } from 'node:crypto';
import { cpuTicks } from './backend-ticks';
import { createBenchEvent, createTicketQuota, openBenchSchema } from './bench-schema';
import { CartReserveFewerStatements1769300000000 } from '../src/db/migrations/1769300000000-cart-reserve-fewer-statements';

const calls = Number(process.argv[2] ?? 2000);
const batch = Number(process.env.BENCH_BATCH ?? 1);
const before = process.env.BENCH_BEFORE === '1';
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function main(): Promise<void> {
  const { ds, admin, pid, close } = await openBenchSchema('bench_reserve', url);
  try {
    if (before) {
      const runner = ds.createQueryRunner();
      try { await new CartReserveFewerStatements1769300000000().down(runner); } finally { await runner.release(); }
    }
    const { event } = await createBenchEvent(ds);
    const product = { id: (await createTicketQuota(ds, event.id)).productId };
    let at = Date.parse('2030-03-01T10:00:00Z');
    const carts: string[] = [];
    const call = async (again: boolean, i: number) => {
      const requests = Array.from({ length: batch }, (_, idx) => {
        const cart = again ? carts[(i * batch + idx) % carts.length]! : randomUUID();
        if (!again) carts.push(cart);
        return { idx, cart_id: cart, event_id: event.id, products: [product.id], quantities: [1] };
      });
      at += 1000;
      const rows = await ds.query('SELECT r.ok FROM kassa_cart_reserve($1::jsonb, $2::timestamptz) r', [JSON.stringify(requests), new Date(at).toISOString()]) as { ok: boolean }[];
      if (rows.length !== batch || !rows.every((r) => r.ok)) throw new Error('reservation refused');
    };
    for (let i = 0; i < 300; i++) await call(false, i); // warm-up: plans, caches
    let statements = true;
    try { await admin.query('SELECT pg_stat_statements_reset()'); } catch { statements = false; }
    const measure = async (label: string, again: boolean) => {
      const lsn0 = (await admin.query('SELECT pg_current_wal_insert_lsn() AS lsn')).rows[0].lsn as string;
      const ticks = cpuTicks(pid);
      for (let i = 0; i < calls; i++) await call(again, i);
      const cpuMs = ((cpuTicks(pid) - ticks) * 1000) / 100;
      const lsn1 = (await admin.query('SELECT pg_current_wal_insert_lsn() AS lsn')).rows[0].lsn as string;
      const n = calls * batch;
      const wal = (await admin.query('SELECT pg_wal_lsn_diff($1, $2)::float8 AS bytes', [lsn1, lsn0])).rows[0] as { bytes: number };
      let records = '';
      try {
        // pg_walinspect reads only flushed WAL (the holds commit without waiting for the flush).
        await admin.query('CHECKPOINT');
        const r = (await admin.query('SELECT sum(count)::float8 AS n FROM pg_get_wal_stats($1, $2)', [lsn0, lsn1])).rows[0] as { n: number };
        records = `, ${(r.n / n).toFixed(2)} records`;
      } catch { /* no pg_walinspect */ }
      let inside = '';
      if (statements) {
        // Nested statements of the measured backend's database user (the admin connection's own are top level).
        const s = (await admin.query(
          `SELECT coalesce(sum(calls) FILTER (WHERE NOT toplevel), 0)::float8 AS nested, coalesce(sum(rows) FILTER (WHERE NOT toplevel), 0)::float8 AS rows
             FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows[0] as { nested: number; rows: number };
        inside = ` · ${(s.nested / n).toFixed(2)} statements inside PostgreSQL per reservation (${(s.nested / calls).toFixed(1)} per call)`;
        if (process.env.BENCH_TOP === '1') {
          const top = (await admin.query(
            `SELECT calls, round(total_exec_time::numeric * 1000 / $1) AS us, toplevel, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q
               FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              ORDER BY total_exec_time DESC LIMIT 14`, [n])).rows as { calls: string; us: string; toplevel: boolean; q: string }[];
          for (const t of top) console.log(`  ${t.toplevel ? 'top' : '   '} ${t.calls.padStart(6)} calls ${String(t.us).padStart(5)} µs/res  ${t.q}`);
        }
        await admin.query('SELECT pg_stat_statements_reset()');
      }
      console.log(`${before ? 'before' : 'after '} ${label}, ${calls} calls of ${batch}: backend ${(cpuMs * 1000 / n).toFixed(0)} µs per reservation`
        + ` · ${(wal.bytes / n).toFixed(0)} WAL bytes${records}${inside}`);
    };
    await measure('new carts ', false);
    await measure('again     ', true);
  } finally {
    await close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
