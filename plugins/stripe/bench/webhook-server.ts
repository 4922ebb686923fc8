/**
 * The webhook endpoint under benchmark, as its own process (the load generator must not share its
 * event loop): a fresh schema with core's, the shop's and the Stripe plugin's migrations, one
 * registered Stripe account with a signing secret, and the real server (buildApp) with the plugin's
 * routes on a free loopback port. The jobs of the accepted events are enqueued as the real
 * server enqueues them (the jobs runtime on Redis, REDIS_URL, a key prefix of its own, dropped at the
 * end; no worker runs, so the jobs stay queued); BENCH_ENQUEUE=none makes the enqueue a no-op (the
 * figure is then "verified and stored" only, as before session 8).
 * Prints one JSON line ({ url, account, secret }); answers "count" on stdin with the inbox size, its
 * own CPU time so far and its pool's PostgreSQL backends' CPU time since the first "count"; "begin"
 * and "end" bracket the timed run (BENCH_CPU_PROF: a V8 profile of it alone; BENCH_TRACE: see
 * intake-trace.ts, whose figures "end" answers);
 * drops the schema on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import {
  SettingsStore, createDataSource, createKassaCore, createProviderContextFactory, loadPlugins, organizerSettings, runMigrations, systemClock,
  Organizer, createPluginRuntimes,
} from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger } from '@kassa/jobs';
import { buildApp } from '@kassa/server';
import { cpuProfiler } from '../../../packages/server/bench/cpu-profile';
import { probeBackendCpu, type BackendCpu } from '../../../bench/lib/pg-cpu';
import { shopMigrations } from '../../../packages/server/src/shop';
import { traceIntake } from './intake-trace';
import { createStripePlugin, handleWebhook, storeEndpointSecret, type StripeRuntime } from '../src';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_stripe_${randomBytes(4).toString('hex')}`;
  const admin = createDataSource({ url, poolSize: 1 });
  await admin.initialize();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.destroy();

  const plugin = createStripePlugin();
  const loaded = loadPlugins([plugin], { clock: systemClock });
  const ds = createDataSource({ url, schema, migrations: [...loaded.migrations, ...shopMigrations], poolSize: Number(process.env.BENCH_POOL ?? 20) });
  await ds.initialize();
  await runMigrations(ds);

  const organizer = await ds.getRepository(Organizer).save({ slug: 'bench', name: 'Bench Organizer' });
  const settings = new SettingsStore(ds, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
  const secret = `whsec_${randomBytes(16).toString('hex')}`;
  const account = 'acct_bench0000000001';
  await ds.query(`INSERT INTO stripe_account (account_id, scope, organizer_id, livemode) VALUES ($1, 'organizer', $2, false)`, [account, organizer.id]);
  const baseUrl = 'http://127.0.0.1';
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock: systemClock, baseUrl });
  const core = createKassaCore({ dataSource: ds, providers: loaded.providers, providerContext, clock: systemClock });
  // The plugin port, as the hosts build it; the bare host below uses its runtime directly.
  const runtimes = createPluginRuntimes({ core, dataSource: ds, settings, clock: systemClock, baseUrl }, [plugin]);
  const jobs = process.env.BENCH_ENQUEUE === 'none' ? null : await createJobsRuntime({
    dataSource: ds, logger: silentLogger, plugins: [plugin], pluginHost: { core, dataSource: ds, settings, clock: systemClock, baseUrl },
    config: defineJobsConfig({
      backend: { kind: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `bench${randomBytes(4).toString('hex')}` },
      publicUrl: baseUrl, mailFrom: 'Bench <noreply@kassa.test>',
    }),
  });
  const enqueuePluginJob = async (name: string, job: string, payload: Record<string, unknown>, o?: { jobId?: string; delayMs?: number; organizerId?: string | null }) => {
    await jobs?.enqueuePluginJob(name, job, payload, o);
  };
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const rt = runtimes.runtime(plugin, { enqueue: (job, payload, o) => enqueuePluginJob(plugin.name, job, payload, { ...o, organizerId: null }), log: quiet });
  // The account's endpoint with its own signing secret (what "Create webhook endpoint" stores).
  await storeEndpointSecret(rt, { endpointId: 'we_bench', accountId: account, target: organizerSettings(organizer.id), secret });
  const app = await buildApp({
    dataSource: ds, clock: systemClock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
    config: { baseUrl, sessionSecret: randomBytes(32).toString('hex') },
    pluginViews: Object.fromEntries(loaded.views.map((v) => [v.plugin, v.dir])),
    pluginRoutes: loaded.routes,
    enqueuePluginJob,
  });
  // BENCH_HOST=bare: the same handler behind node:http alone, to separate the plugin's cost from
  // the server's (which answers webhooks before fastify routes them: infra/webhook-intake.ts).
  const address = process.env.BENCH_HOST === 'bare' ? await bareHost(rt) : await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(JSON.stringify({ url: address, account, secret }));

  // PostgreSQL's side: the CPU of the pool's backends, followed from the first "count" on (after
  // the warm-up has opened the pool's connections).
  let backends: BackendCpu | null = null;
  const trace = process.env.BENCH_TRACE ? traceIntake(ds) : null;
  const profileDir = process.env.BENCH_CPU_PROF;
  const profile = profileDir ? cpuProfiler() : null;
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'begin' || line.trim() === 'end') {
      const begin = line.trim() === 'begin';
      void (async () => {
        const traced = begin ? await trace?.start() : await trace?.stop();
        if (begin) await profile?.start();
        else await profile?.stop(path.join(profileDir!, `webhook-server-${process.pid}.cpuprofile`));
        console.log(JSON.stringify(traced ?? {}));
      })().catch((err: unknown) => console.log(JSON.stringify({ error: String(err) })));
      return;
    }
    if (line.trim() !== 'count') return;
    const cpu = process.cpuUsage();
    void (async () => {
      backends ??= await probeBackendCpu(ds);
      const pgCpuMicros = backends.elapsedCpuMs() * 1000;
      const [row] = await ds.query('SELECT count(*)::int AS n FROM stripe_webhook_inbox');
      const queued = jobs ? await jobs.queues.plugins.count() : null;
      console.log(JSON.stringify({ stored: row.n, queued, cpuMicros: cpu.user + cpu.system, pgCpuMicros, backends: backends.backends }));
    })().catch((err: unknown) => console.log(JSON.stringify({ error: String(err) })));
  });
  process.on('SIGTERM', () => {
    void (async () => {
      await app.close();
      await runtimes.close();
      if (jobs) {
        await jobs.stop();
        await jobs.destroyBackend();
      }
      await ds.query(`DROP SCHEMA ${schema} CASCADE`);
      await ds.destroy();
      process.exit(0);
    })();
  });
}

async function bareHost(rt: StripeRuntime): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const account = (req.url ?? '').split('/').pop() ?? '';
      handleWebhook({ method: 'POST', params: { account }, query: {}, headers: req.headers, rawBody: Buffer.concat(chunks) }, rt)
        .then((out) => { const o = out as { status: number; body?: unknown }; res.writeHead(o.status, { 'content-type': 'application/json' }).end(JSON.stringify(o.body ?? {})); })
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
