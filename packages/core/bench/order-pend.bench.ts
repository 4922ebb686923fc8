/**
 * PostgreSQL's own work for one order and its payment's pending step, one order at a time on one
 * connection: the order insert (order, payment, log entry, outbox event) and the created → pending
 * step (the payment, its log entry and outbox event). Without batching or lock waits, the CPU the
 * backend spends per order hardly depends on what else the machine runs, so two builds can be
 * compared on it. Commits do not wait for the WAL flush (the same for every build, and larger than
 * the rest). Prints the backend's CPU, WAL bytes and records, and HOT updates per order.
 *
 *   DATABASE_URL=postgres://… TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/core/bench/order-pend.bench.ts [orders]
 *
 * Needs a database on this machine (the backend's CPU is read from /proc) and pg_walinspect for
 * the record count (optional). Creates and drops a schema of its own.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpuTicks } from './backend-ticks';
import { createBenchEvent, openBenchSchema } from './bench-schema';
import { insertOrderRows } from '../src/persistence/order-insert';
import { pendCreatedPayment } from '../src/persistence/payment-execute';

const orders = Number(process.argv[2] ?? 3000);
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function main(): Promise<void> {
  const { ds, admin, schema, pid, close } = await openBenchSchema('bench_pend', url);
  try {
    const { organizer, event } = await createBenchEvent(ds);
    // The WAL flush of each commit is the same in both builds and dominates a one-by-one run (each
    // order commits twice): without waiting for it, what is left is the statements' own work.
    await ds.query('SET synchronous_commit = off');
    let n = 0;
    const one = async () => {
      const i = n++;
      const id = randomUUID();
      const paymentId = randomUUID();
      const code = `B${i.toString(36).toUpperCase().padStart(6, '0')}`;
      const placed = await insertOrderRows(ds.manager, {
        id, organizerId: organizer.id, eventId: event.id, code, secret: randomBytes(24).toString('base64url'), email: 'buyer@example.org',
        locale: 'en', total: 1000, currency: 'EUR', expires: new Date(Date.now() + 14 * 86_400_000), testmode: false, idempotencyKey: null,
        country: null, feeId: null, fee: 0, providerId: 'manual', paymentId, paymentInitiated: true, actor: { type: 'buyer' },
        logData: {}, eventPayload: { orderId: id, code }, positions: [], cartId: null,
      });
      if (!placed) throw new Error('order not placed');
      const moved = await pendCreatedPayment(ds.manager, { id: paymentId, localId: 1, provider: 'manual' },
        { id, organizerId: organizer.id, eventId: event.id, code }, { type: 'provider', id: 'manual' }, { reference: code });
      if (!moved) throw new Error('payment not moved');
    };
    for (let i = 0; i < 300; i++) await one(); // warm-up: plans, caches
    const stats = async () => {
      // The measured backend reports its table counts now (PostgreSQL 15), not up to a second later.
      await ds.query('SELECT pg_stat_force_next_flush()');
      await ds.query('SELECT 1');
      return (await admin.query(
        `SELECT pg_current_wal_insert_lsn() AS lsn, s.n_tup_upd AS upd, s.n_tup_hot_upd AS hot
           FROM pg_stat_user_tables s WHERE s.schemaname = $1 AND s.relname = 'order_payment'`, [schema])).rows[0] as { lsn: string; upd: string; hot: string };
    };
    const before = await stats();
    const ticks = cpuTicks(pid);
    const started = process.cpuUsage();
    for (let i = 0; i < orders; i++) await one();
    const cpuMs = ((cpuTicks(pid) - ticks) * 1000) / 100;
    const nodeMs = (process.cpuUsage(started).user + process.cpuUsage(started).system) / 1000;
    const after = await stats();
    const wal = (await admin.query('SELECT pg_wal_lsn_diff($1, $2)::float8 AS bytes', [after.lsn, before.lsn])).rows[0] as { bytes: number };
    let records = '';
    try {
      const r = (await admin.query('SELECT sum(count)::float8 AS n FROM pg_get_wal_stats($1, $2)', [before.lsn, after.lsn])).rows[0] as { n: number };
      records = `, ${(r.n / orders).toFixed(1)} WAL records`;
    } catch { /* no pg_walinspect */ }
    console.log(`order + pending step, ${orders} orders one by one: PostgreSQL backend ${(cpuMs * 1000 / orders).toFixed(0)} µs per order`
      + ` (node ${(nodeMs * 1000 / orders).toFixed(0)} µs) · ${(wal.bytes / orders).toFixed(0)} WAL bytes${records}`
      + ` · payment updates ${((Number(after.upd) - Number(before.upd)) / orders).toFixed(2)} per order, HOT ${((Number(after.hot) - Number(before.hot)) / orders).toFixed(2)}`);
  } finally {
    await close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
