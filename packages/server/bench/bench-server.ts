/**
 * The shop under benchmark, as its own process (so that the load generator does not share its
 * event loop): a fresh schema on the real PostgreSQL with the real migrations, one organizer,
 * event, product and a quota large enough never to sell out, the manual provider enabled, and the
 * app listening on a free loopback port. Prints one JSON line with what the load generator needs,
 * and drops the schema on SIGTERM.
 *
 * Run by shop.bench.ts; DATABASE_URL defaults to the local test database.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import {
  createDataSource, createKassaCore, createProviderContextFactory, eventSettings, Event, loadPlugins, Organizer, Product, Quota,
  runMigrations, SettingsStore, systemClock,
} from '@kassa/core/host';
import { cpuProfiler } from './cpu-profile';
import { buildApp } from '../src/app';
import { shopMigrations } from '../src/shop';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = createDataSource({ url, poolSize: 1 });
  await admin.initialize();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.destroy();

  const poolSize = Number(process.env.BENCH_POOL ?? 20);
  const ds = createDataSource({ url, schema, migrations: shopMigrations, poolSize });
  await ds.initialize();
  // node-postgres closes connections idle for 10 s; the event-page phase uses none, and new
  // backends would escape the CPU accounting below. Keep them (a benchmark-only setting).
  (ds.driver as unknown as { master: { options: { idleTimeoutMillis: number } } }).master.options.idleTimeoutMillis = 0;
  await runMigrations(ds);
  const statements = countStatements(ds);

  const organizer = await ds.getRepository(Organizer).save({ slug: 'bench', name: 'Bench Organizer' });
  const event = await ds.getRepository(Event).save({
    organizerId: organizer.id, slug: 'conf', name: 'Bench Conference', currency: 'EUR', timezone: 'UTC', locale: 'en',
    paymentTermDays: 14, paymentTermAcceptLate: true, live: true,
  });
  const products = await ds.getRepository(Product).save([
    { eventId: event.id, name: 'Conference ticket', price: 12900, active: true, position: 0 },
    { eventId: event.id, name: 'Workshop', price: 4900, active: true, position: 1 },
    { eventId: event.id, name: 'T-shirt', price: 2000, active: true, position: 2 },
  ]);
  await ds.getRepository(Quota).save({ eventId: event.id, name: 'Everything', size: 10_000_000, products });

  const loaded = loadPlugins([], { clock: systemClock });
  const settings = new SettingsStore(ds, { schemas: loaded.settingsSchemas, secretKey: null, cacheMs: 1000 });
  await settings.set(eventSettings(event), 'payment.manual', {
    _enabled: true, publicName: 'Bank transfer', pendingInstructions: 'Transfer the amount quoting your order code.',
  });
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock: systemClock, baseUrl: 'http://127.0.0.1' });
  const core = createKassaCore({ dataSource: ds, providers: loaded.providers, providerContext, clock: systemClock });
  const app = await buildApp({
    dataSource: ds, clock: systemClock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
    config: {
      baseUrl: 'http://127.0.0.1', sessionSecret: randomBytes(32).toString('hex'), logger: false,
      // The limit exists against scripts; the benchmark is one.
      rateLimits: { placeOrder: { max: 1_000_000_000, timeWindow: '1 minute' } },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close();
    // Requests autocannon abandoned at the end may still hold row locks: retry the drop.
    for (let attempt = 1; ; attempt++) {
      try {
        await ds.query(`DROP SCHEMA ${schema} CASCADE`);
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await ds.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.resume();

  // The count, and when the first and the last order were placed (ms): autocannon ends a run on a
  // one-second tick, so its duration would quantise orders per second; the orders' own times do not.
  const orders = async () => {
    const [row] = await ds.query(`SELECT count(*)::int AS n, (extract(epoch FROM min(created_at)) * 1000)::float8 AS first,
      (extract(epoch FROM max(created_at)) * 1000)::float8 AS last FROM kassa_order`) as { n: number; first: number | null; last: number | null }[];
    return row!;
  };
  // The pool's PostgreSQL backends, found by holding every connection at once; their CPU time
  // (/proc/<pid>/stat, in clock ticks of 10 ms) is the database's share of the work.
  const held = await Promise.all(Array.from({ length: poolSize }, () => ds.query('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)') as Promise<{ pid: number }[]>));
  const backendPids = [...new Set(held.map((rows) => rows[0]!.pid))];
  const pgCpuMicros = () => backendPids.reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) * 10_000;
    } catch {
      return sum;
    }
  }, 0);
  // Young-generation collections so far: with a fixed young generation (BENCH_NODE_ARGS
  // `--min-semi-space-size=16 --max-semi-space-size=16`) their count per request measures the
  // garbage a request makes, however busy the machine is.
  let minorGcs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minorGcs += 1;
  }).observe({ entryTypes: ['gc'] });
  // The parent asks through stdin for the order count and this process's CPU time (µs), so it can
  // compute orders per second and CPU per request, which does not depend on how busy the box is.
  const profiler = cpuProfiler();
  process.stdin.on('data', (chunk: Buffer) => {
    const command = chunk.toString();
    // BENCH_PROFILE: the parent brackets one phase with profile-start / profile-stop <file>.
    if (command.startsWith('profile-start')) {
      void profiler.start().then(() => process.stdout.write('{"ok":true}\n'));
      return;
    }
    if (command.startsWith('profile-stop')) {
      void profiler.stop(command.slice('profile-stop'.length).trim()).finally(() => process.stdout.write('{"ok":true}\n'));
      return;
    }
    if (command.startsWith('sql')) {
      process.stdout.write(`${JSON.stringify(Object.fromEntries(statements))}\n`);
      return;
    }
    if (!command.includes('count')) return;
    void orders().then(({ n, first, last }) => {
      const cpu = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ orders: n, firstAt: first, lastAt: last, cpuMicros: cpu.user + cpu.system, sysMicros: cpu.system, pgCpuMicros: pgCpuMicros(), statements: [...statements.values()].reduce((a, b) => a + b, 0), minorGcs })}\n`);
    });
  });
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, base: '/bench/conf/', productIds: products.map((p) => p.id) })}\n`);
}

/**
 * Counts the SQL statements the pool's connections send, by statement (the prepared name or the
 * first line of the text): pg_stat_statements needs a server restart to load, this does not.
 */
function countStatements(ds: { driver: unknown }): Map<string, number> {
  const counts = new Map<string, number>();
  type Client = { query: (...args: unknown[]) => unknown; kassaCounted?: boolean };
  const pool = (ds.driver as { master: { on(event: 'acquire', fn: (client: Client) => void): void } }).master;
  pool.on('acquire', (client) => {
    if (client.kassaCounted) return;
    client.kassaCounted = true;
    const query = client.query.bind(client);
    client.query = (...args: unknown[]) => {
      const first = args[0] as string | { name?: string; text?: string };
      const key = typeof first === 'string' ? first : first.name ?? first.text ?? '?';
      const label = key.replace(/\s+/g, ' ').slice(0, 120);
      counts.set(label, (counts.get(label) ?? 0) + 1);
      return query(...args);
    };
  });
  return counts;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
