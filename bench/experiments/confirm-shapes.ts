/**
 * EXPERIMENT, not a benchmark of Kassa's code: how fast could a payment confirmation be on this
 * machine if it were shaped differently? Three shapes write the same rows (payment confirmed,
 * order paid, two log entries, two outbox events) for distinct orders, at the same concurrency:
 *
 *   service      core.payments.confirmPayment, as shipped (the reference)
 *   two-tx-raw   the service's statements as raw SQL: 2 transactions, 10 round trips, 2 commits
 *   one-tx       1 transaction: one CTE confirms the payment and writes its log and outbox rows,
 *                a SAVEPOINT (pretix's "money is kept even if the order step fails"), the order
 *                row locked with its sums, one CTE marks it paid with its log and outbox rows:
 *                6 round trips, 1 commit
 *   one-tx-prepared  the same as named prepared statements (parsed and planned once per connection)
 *
 * The raw shapes skip the service's checks; they only measure what the database and the driver
 * allow. Run: TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/experiments/confirm-shapes.ts
 * The shapes take turns in rounds (the order rotating each round), so that warm-up, table growth
 * and the machine's changing load fall on all of them alike.
 * Knobs: BENCH_ORDERS (per shape, default 1200), BENCH_ROUNDS (default 6), BENCH_CONCURRENCY (16).
 */
import { orderSumsColumns, orderSumsJoins, type EntityManager } from '../../packages/core/src/host';
import { createCoreBenchFixture, envInt, type CoreBenchFixture } from '../lib/core-fixture';
import { probeBackendCpu } from '../lib/pg-cpu';
import { formatCpu, formatSummary, measure, measureRaw, summarizeRuns, type RawRun, type Summary } from '../lib/stats';

const actor = { type: 'provider', id: 'card' } as const;

const lockPayment = `SELECT p.*, o.organizer_id AS order_organizer_id, o.event_id AS order_event_id, o.code AS order_code
  FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE p.id = $1 FOR UPDATE OF p`;
const lockOrderWithSums = `SELECT o.*, ${orderSumsColumns} FROM kassa_order o ${orderSumsJoins} WHERE o.id = $1 FOR UPDATE OF o`;
const logAndOutbox = `WITH entry AS (
    INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
    VALUES ($1, $2, $3, $4, $5, $6, 'provider', 'card', $7::jsonb))
  INSERT INTO outbox_event (topic, organizer_id, order_id, payload) VALUES ($8, $1, $3, $9::jsonb)`;

async function twoTxRaw(f: CoreBenchFixture, paymentId: string): Promise<void> {
  const { orderId, order } = await f.ds.transaction(async (tx: EntityManager) => {
    const [p] = await tx.query(lockPayment, [paymentId]);
    await tx.query(`UPDATE order_payment SET payment_date = now(), state = 'confirmed' WHERE id = $1 AND state = $2`, [paymentId, p.state]);
    await tx.query(logAndOutbox, [p.order_organizer_id, p.order_event_id, p.order_id, 'payment', paymentId, 'kassa.order.payment.confirmed',
      JSON.stringify({ amount: p.amount }), 'payment.confirmed', JSON.stringify({ paymentId })]);
    return { orderId: p.order_id as string, order: { organizerId: p.order_organizer_id as string, eventId: p.order_event_id as string } };
  });
  await f.ds.transaction(async (tx: EntityManager) => {
    const [o] = await tx.query(lockOrderWithSums, [orderId]);
    if (Number(o.pendingSum) > 0) throw new Error('not fully paid');
    await tx.query(`UPDATE kassa_order SET status = 'paid', updated_at = now() WHERE id = $1 AND status = 'pending'`, [orderId]);
    await tx.query(logAndOutbox, [order.organizerId, order.eventId, orderId, 'order', orderId, 'kassa.order.paid',
      JSON.stringify({ paymentId }), 'order.paid', JSON.stringify({ total: o.total })]);
  });
}

const confirmPaymentCte = `WITH p AS (
    UPDATE order_payment SET state = 'confirmed', payment_date = now()
     WHERE id = $1 AND state IN ('created', 'pending') RETURNING id, order_id, amount),
  o AS (SELECT o.id, o.organizer_id, o.event_id FROM kassa_order o JOIN p ON o.id = p.order_id),
  entry AS (
    INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
    SELECT o.organizer_id, o.event_id, o.id, 'payment', p.id, 'kassa.order.payment.confirmed', 'provider', 'card', jsonb_build_object('amount', p.amount)
      FROM p, o)
  INSERT INTO outbox_event (topic, organizer_id, order_id, payload)
  SELECT 'payment.confirmed', o.organizer_id, o.id, jsonb_build_object('paymentId', p.id) FROM p, o
  RETURNING order_id`;
const markPaidCte = `WITH u AS (
    UPDATE kassa_order SET status = 'paid', updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING id, organizer_id, event_id, total),
  entry AS (
    INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
    SELECT organizer_id, event_id, id, 'order', id, 'kassa.order.paid', 'provider', 'card', jsonb_build_object('paymentId', $2::text) FROM u)
  INSERT INTO outbox_event (topic, organizer_id, order_id, payload)
  SELECT 'order.paid', organizer_id, id, jsonb_build_object('total', total) FROM u`;

type Run = (name: string, text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

/** The one-transaction shape; `run` sends each statement (unnamed, or as a named prepared statement). */
async function oneTxWith(tx: EntityManager, run: Run, paymentId: string): Promise<void> {
  const [p] = await run('kassa_confirm_payment', confirmPaymentCte, [paymentId]);
  if (!p) throw new Error('payment not confirmable');
  await tx.query('SAVEPOINT order_step');
  const [o] = await run('kassa_lock_order_sums', lockOrderWithSums, [p.order_id]);
  if (Number(o!.pendingSum) > 0) throw new Error('not fully paid');
  await run('kassa_mark_paid', markPaidCte, [p.order_id, paymentId]);
}

async function oneTx(f: CoreBenchFixture, paymentId: string): Promise<void> {
  await f.ds.transaction((tx: EntityManager) => oneTxWith(tx, (_name, text, values) => tx.query(text, values), paymentId));
}

/** As one-tx, but as named prepared statements: PostgreSQL parses and plans each once per connection. */
async function oneTxPrepared(f: CoreBenchFixture, paymentId: string): Promise<void> {
  await f.ds.transaction(async (tx: EntityManager) => {
    // The pg client under TypeORM's query runner; node-postgres prepares a statement once per connection by name.
    const client = (tx.queryRunner as unknown as { databaseConnection: { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }> } }).databaseConnection;
    await oneTxWith(tx, async (name, text, values) => (await client.query({ name, text, values })).rows, paymentId);
  });
}

export async function runConfirmShapes(): Promise<Record<string, Summary>> {
  const perShape = envInt('BENCH_ORDERS', 1200);
  const rounds = envInt('BENCH_ROUNDS', 6);
  const concurrency = envInt('BENCH_CONCURRENCY', 16);
  const shapes: [string, (f: CoreBenchFixture, paymentId: string) => Promise<unknown>][] = [
    ['service', (f, id) => f.core.payments.confirmPayment(id, { actor })],
    ['two-tx-raw', twoTxRaw],
    ['one-tx', oneTx],
    ['one-tx-prepared', oneTxPrepared],
  ];
  const perRound = Math.ceil(perShape / rounds);
  const warmup = 100;
  const f = await createCoreBenchFixture(concurrency + 4);
  try {
    const shop = await f.shop({ price: 2500, quotaSize: null });
    const payments: string[] = [];
    const total = shapes.length * (warmup + perRound * rounds);
    await measure(total, concurrency, async () => { payments.push((await f.placeOne(shop)).paymentId); });
    let next = 0;
    const take = (n: number) => { const ids = payments.slice(next, next + n); next += n; return ids; };

    for (const [, confirm] of shapes) {
      const ids = take(warmup);
      await measure(ids.length, concurrency, (i) => confirm(f, ids[i]!));
    }
    const runs = new Map<string, RawRun[]>(shapes.map(([name]) => [name, []]));
    const pgMs = new Map<string, number>(shapes.map(([name]) => [name, 0]));
    let backends = 0;
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < shapes.length; k++) {
        const [name, confirm] = shapes[(r + k) % shapes.length]!;
        const ids = take(perRound);
        const pgCpu = await probeBackendCpu(f.ds);
        runs.get(name)!.push(await measureRaw(ids.length, concurrency, (i) => confirm(f, ids[i]!)));
        pgMs.set(name, pgMs.get(name)! + pgCpu.elapsedCpuMs());
        backends = pgCpu.backends;
      }
    }
    const [check] = await f.ds.query(
      `SELECT count(*)::int AS paid FROM kassa_order o JOIN order_payment p ON p.order_id = o.id WHERE p.id = ANY($1::uuid[]) AND o.status = 'paid' AND p.state = 'confirmed'`,
      [payments.slice(0, next)]);
    if (check.paid !== next) throw new Error(`${check.paid} of ${next} orders paid`);

    const out: Record<string, Summary> = {};
    for (const [name] of shapes) {
      out[name] = { ...summarizeRuns(runs.get(name)!), pgCpuMs: pgMs.get(name)!, pgBackends: backends };
      console.log(formatSummary(`${name} (c=${concurrency})`, out[name]!));
      console.log(formatCpu('  CPU per confirmation', out[name]!));
    }
    return out;
  } finally {
    await f.destroy();
  }
}

if (require.main === module) {
  runConfirmShapes().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
