/**
 * Outbox events relayed and handled per second, on the Redis and on the PostgreSQL backend.
 * Each event runs one handler whose effect is a row written exactly once (the effects ledger),
 * the relay runs in the same process, and events spread over 500 orders (ordering checks on; an
 * order's events run one after the other, so more orders means more events in flight and fewer
 * events per order: `orders` = `events` is one event per order, the case of a rush's new orders).
 * Prints CPU per event: this process (relay, workers, handlers) and the PostgreSQL backends it uses.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/jobs/bench/relay-throughput.bench.ts [events] [concurrency] [orders]
 */
import { createTestDatabase } from '@kassa/testing';
import { loadavg } from 'node:os';
import { createJobsBackend } from '../src/backend';
import { defineJobsConfig, type JobsBackendConfig } from '../src/config';
import { silentLogger } from '../src/context';
import { createJobsRuntime } from '../src/runtime';
import { BackendCpu } from './backend-cpu';

const events = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 16);
const orders = Number(process.argv[4] ?? 500);

async function run(kind: JobsBackendConfig['kind']): Promise<void> {
  const db = await createTestDatabase({ poolSize: concurrency + 4 });
  const tag = Math.random().toString(16).slice(2, 10);
  const backend: JobsBackendConfig = kind === 'redis'
    ? { kind, url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `bench${tag}` }
    : { kind, url: db.url, schema: `bench_${tag}`, poolSize: 4 };
  const config = defineJobsConfig({ backend, worker: { concurrency, relayPollMs: 20 } });
  await db.dataSource.query(`CREATE TABLE bench_effect (event_id bigint NOT NULL)`);
  const rt = await createJobsRuntime({
    dataSource: db.dataSource, config, logger: silentLogger, withoutEmailHandlers: true,
    handlers: [{ name: 'bench.effect', topics: ['*'], apply: (tx, e) => tx.query(`INSERT INTO bench_effect VALUES ($1)`, [e.id]) }],
  });
  try {
    await db.dataSource.query(
      `INSERT INTO outbox_event (topic, order_id) SELECT 'bench.event', md5((i % $2)::text)::uuid FROM generate_series(1, $1) i`, [events, orders]);
    const pg = new BackendCpu(db.dataSource);
    await pg.start();
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await rt.start({ schedulers: false });
    for (let lastTrack = 0; ;) {
      // Reading /proc costs this process CPU too: once a second finds the backends the pools open.
      if (Date.now() - lastTrack >= 1000) {
        lastTrack = Date.now();
        await pg.track();
      }
      const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM outbox_delivery`);
      if (n >= events) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    await pg.track();
    const [{ n: effects }] = await db.dataSource.query(`SELECT count(DISTINCT event_id)::int AS n FROM bench_effect`);
    console.log(`${kind.padEnd(8)} ${events} events on ${orders} orders, concurrency ${concurrency}: ${seconds.toFixed(1)} s, ${Math.round(events / seconds)} events/s (distinct effects: ${effects})`);
    // CPU per event hardly depends on how busy the shared machine is; Redis's own CPU is not included.
    const nodeMs = (used.user + used.system) / 1000 / events;
    const pgMs = pg.elapsedMs() / events;
    console.log(`${kind.padEnd(8)} CPU per event: ${nodeMs.toFixed(3)} ms node + ${pgMs.toFixed(3)} ms PostgreSQL = ${(nodeMs + pgMs).toFixed(3)} ms · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`${kind.padEnd(8)} baseline, BullMQ alone (no-op jobs, no database work): ${await bullmqBaseline(backend, events)} jobs/s`);
  } finally {
    await rt.stop();
    await rt.destroyBackend();
    await db.destroy();
  }
}

/** The same number of no-op jobs through the same backend: what BullMQ costs by itself. */
async function bullmqBaseline(config: JobsBackendConfig, n: number): Promise<number> {
  const backend = createJobsBackend(config.kind === 'redis' ? { ...config, prefix: `${config.prefix}raw` } : { ...config, schema: `${config.schema}_raw` });
  await backend.prepare();
  const queue = backend.createQueue('baseline');
  try {
    await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'noop', data: {}, opts: { jobId: `noop-${i}`, removeOnComplete: { count: n } } })));
    let done = 0;
    const started = process.hrtime.bigint();
    const worker = backend.createWorker('baseline', async () => void (done += 1), { concurrency });
    while (done < n) await new Promise((r) => setTimeout(r, 20));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await worker.close();
    return Math.round(n / seconds);
  } finally {
    await queue.close();
    await backend.destroyAll();
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_BACKEND as JobsBackendConfig['kind'] | undefined;
  for (const kind of ['redis', 'postgres'] as const) if (!only || only === kind) await run(kind);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
