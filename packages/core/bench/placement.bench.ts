/**
 * PostgreSQL's own work for placing orders from held carts, one placement statement at a time on
 * one connection: BENCH_BATCH orders per statement (default 1, a lone buyer; the shop's batches are a
 * few orders), each from a new cart holding its tickets (BENCH_TICKETS, default 1; reserved
 * beforehand, outside the measurement), with a manual payment. Without lock waits the backend's CPU per order hardly depends
 * on what else the machine runs. Prints, per order: the backend's CPU, WAL bytes, and the statements
 * and plans inside PostgreSQL (pg_stat_statements with `track = all` and `track_planning = on`, if
 * loaded; it is reset); BENCH_TOP=1 lists the largest statements.
 *
 *   DATABASE_URL=postgres://… TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/core/bench/placement.bench.ts [orders]
 *
 * BENCH_EXPLAIN=1 logs a sample of the plans with their timings (auto_explain, into the server's
 * log). Creates and drops a schema of its own.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpuTicks } from './backend-ticks';
import { createBenchEvent, createTicketQuota, openBenchSchema } from './bench-schema';
import { PlacementBatcher, type OrderRows, type PlacementOutcome, type PricedFrom } from '../src/persistence/placement-batch';

const orders = Number(process.argv[2] ?? 2000);
const batch = Number(process.env.BENCH_BATCH ?? 1);
/** Tickets per order (one position each, all held by the order's cart). */
const tickets = Number(process.env.BENCH_TICKETS ?? 1);
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The batcher's one-statement step, called directly so that every statement carries exactly BENCH_BATCH orders. */
type Run = (batch: { rows: OrderRows; pricedFrom: PricedFrom; resolve: (o: PlacementOutcome) => void; reject: (e: unknown) => void }[]) => Promise<unknown[]>;

async function main(): Promise<void> {
  const { ds, admin, pid, close } = await openBenchSchema('bench_place', url);
  try {
    const { organizer, event } = await createBenchEvent(ds);
    const product = { id: (await createTicketQuota(ds, event.id)).productId };
    // The WAL flush of each commit is the same in both builds and larger than the rest.
    await ds.query('SET synchronous_commit = off');
    if (process.env.BENCH_EXPLAIN === '1') {
      await ds.query("LOAD 'auto_explain'");
      await ds.query("SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_timing = on; SET auto_explain.sample_rate = 0.02; SET auto_explain.log_nested_statements = on");
    }
    let at = Date.parse('2030-03-01T10:00:00Z');
    const placer = new PlacementBatcher(ds.manager, () => new Date(at));
    const run = (placer as unknown as { run: Run }).run.bind(placer);
    const pricedFrom: PricedFrom = { paymentTermDays: event.paymentTermDays, locale: event.locale, paymentTermLast: event.paymentTermLast };
    let n = 0;
    const reserve = async (carts: string[]) => {
      const requests = carts.map((cart, idx) => ({ idx, cart_id: cart, event_id: event.id, products: [product.id], quantities: [tickets] }));
      const rows = await ds.query('SELECT r.ok FROM kassa_cart_reserve($1::jsonb, $2::timestamptz) r', [JSON.stringify(requests), new Date(at).toISOString()]) as { ok: boolean }[];
      if (!rows.every((r) => r.ok)) throw new Error('reservation refused');
    };
    const order = (cartId: string): OrderRows => {
      const i = n++;
      const id = randomUUID();
      const code = `B${i.toString(36).toUpperCase().padStart(6, '0')}`;
      return {
        id, organizerId: organizer.id, eventId: event.id, code, secret: randomBytes(24).toString('base64url'), email: 'buyer@example.org',
        locale: 'en', total: 1000 * tickets, currency: 'EUR', expires: new Date(at + 14 * 86_400_000), testmode: false, idempotencyKey: null,
        country: null, feeId: null, fee: 0, providerId: 'manual', paymentId: randomUUID(), paymentInitiated: true, actor: { type: 'buyer' },
        logData: {}, eventPayload: { orderId: id, code }, positions: Array.from({ length: tickets }, () => ({ productId: product.id, price: 1000, attendeeName: null })), cartId,
      };
    };
    const place = async (carts: string[]) => {
      const outcomes: Promise<PlacementOutcome>[] = [];
      const waiting = carts.map((cart) => {
        let w!: Parameters<Run>[0][number];
        outcomes.push(new Promise((resolve, reject) => { w = { rows: order(cart), pricedFrom, resolve, reject }; }));
        return w;
      });
      await run(waiting);
      for (const o of await Promise.all(outcomes)) if (o.kind !== 'placed') throw new Error(`order not placed: ${o.kind}`);
    };
    const newCarts = () => Array.from({ length: batch }, () => randomUUID());
    const rounds = Math.ceil(orders / batch);
    // Warm-up: plans, caches (and the generic plan of the placement statement after its fifth run).
    for (let i = 0; i < 60; i++) {
      const carts = newCarts();
      await reserve(carts);
      await place(carts);
    }
    const held: string[][] = [];
    for (let i = 0; i < rounds; i++) {
      at += 1000;
      const carts = newCarts();
      await reserve(carts);
      held.push(carts);
    }
    let statements = true;
    try { await admin.query('SELECT pg_stat_statements_reset()'); } catch { statements = false; }
    const lsn0 = (await admin.query('SELECT pg_current_wal_insert_lsn() AS lsn')).rows[0].lsn as string;
    const ticks = cpuTicks(pid);
    for (const carts of held) await place(carts);
    const cpuMs = ((cpuTicks(pid) - ticks) * 1000) / 100;
    const lsn1 = (await admin.query('SELECT pg_current_wal_insert_lsn() AS lsn')).rows[0].lsn as string;
    const count = rounds * batch;
    const wal = (await admin.query('SELECT pg_wal_lsn_diff($1, $2)::float8 AS bytes', [lsn1, lsn0])).rows[0] as { bytes: number };
    let inside = '';
    if (statements) {
      const s = (await admin.query(
        `SELECT coalesce(sum(calls) FILTER (WHERE NOT toplevel), 0)::float8 AS nested, coalesce(sum(plans), 0)::float8 AS plans,
                coalesce(sum(total_exec_time) FILTER (WHERE toplevel AND query LIKE 'WITH ord AS%'), 0)::float8 AS ms
           FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND userid = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND query NOT LIKE '%pg_stat_statements%'
            AND query NOT LIKE '%pg_current_wal_insert_lsn%'`)).rows[0] as { nested: number; plans: number; ms: number };
      inside = ` · ${(s.nested / rounds).toFixed(1)} statements inside PostgreSQL per call, ${(s.plans / rounds).toFixed(2)} plans per call`
        + ` · ${(s.ms * 1000 / count).toFixed(0)} µs per order in the placement statement`;
      if (process.env.BENCH_TOP === '1') {
        const top = (await admin.query(
          `SELECT calls, plans, round(total_exec_time::numeric * 1000 / $1) AS us, round(total_plan_time::numeric * 1000 / $1) AS plan_us, toplevel,
                  left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS q
             FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY total_exec_time DESC LIMIT 16`, [count])).rows as { calls: string; plans: string; us: string; plan_us: string; toplevel: boolean; q: string }[];
        for (const t of top) {
          console.log(`  ${t.toplevel ? 'top' : '   '} ${t.calls.padStart(6)} calls ${t.plans.padStart(5)} plans ${String(t.us).padStart(5)} + ${String(t.plan_us).padStart(3)} µs/order  ${t.q}`);
        }
      }
    }
    console.log(`${rounds} statements of ${batch}: backend ${(cpuMs * 1000 / count).toFixed(0)} µs per order`
      + ` · ${(wal.bytes / count).toFixed(0)} WAL bytes${inside}`);
  } finally {
    await close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
