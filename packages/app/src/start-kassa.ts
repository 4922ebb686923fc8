import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createPluginRuntimes, parseConfig, systemClock, WebhookService, type AppConfig, type PluginRuntime, type PluginRuntimes } from '@kassa/core/host';
import { consoleLogger, createJobsRuntime, loadJobsConfig, type JobsLogger, type JobsRuntime } from '@kassa/jobs';
import { buildApp, bulkTaskJobs, exportFilePurgeTask, startupWarnings } from '@kassa/server';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { closerStack, composeKassa, type KassaComposition } from './compose-kassa';
import { startEmbeddedDefaults } from './embedded-defaults';
import { readPrivateJson, writePrivate } from './private-file';
import { seedDemo, type DemoLogin } from './seed/demo-seed';
import { sessionPurgeTask } from './session-purge-task';

export interface StartKassaOptions {
  /** Run the job workers, the outbox relay and the schedulers in this process. Default: with the embedded database. */
  inProcessJobs?: boolean;
  /**
   * Call the bundled plugins' embeddedDefault hooks (the Stripe plugin starts its offline emulator
   * and points the instance-wide Stripe settings at it). Default: with the embedded database. A
   * hook leaves settings someone configured globally alone.
   */
  embeddedDefaults?: boolean;
  /** scrypt cost for the demo login's hash (tests); production leaves it unset. */
  passwordLogN?: number;
  /** Jobs logging, the embedded defaults' logging and start-up warnings; default the console. */
  jobsLogger?: JobsLogger;
}

/** A running instance: where it answers and what a test may look at. */
export interface RunningKassa {
  /** BASE_URL, without trailing slash. */
  readonly url: string;
  readonly config: AppConfig;
  readonly app: FastifyInstance;
  readonly kassa: KassaComposition;
  readonly jobs: JobsRuntime;
  /** Names of the plugins whose embeddedDefault hook started something (e.g. ["stripe"]). */
  readonly embeddedDefaults: readonly string[];
  /** The demo login: printed on first start, read back from the data directory later. */
  readonly login: DemoLogin | null;
  /** Path of the demo event's page (seeded on first start). */
  readonly eventPath: string;
  /** Graceful: HTTP, then jobs (in-flight jobs finish), the plugins' embedded parts, core, the database. */
  close(): Promise<void>;
}

/**
 * The whole stack as `pnpm start` runs it: composition, first-start demo data, the plugins'
 * embedded defaults, the jobs runtime (its worker in-process in the embedded default), and the
 * HTTP app listening on HOST:PORT. PORT 0 picks a free port (BASE_URL follows unless set explicitly).
 */
export async function startKassa(inputConfig: AppConfig, opts: StartKassaOptions = {}): Promise<RunningKassa> {
  const config = await withFreePort(inputConfig);
  const kassa = await composeKassa(config);
  // Closed in reverse: HTTP, rate-limit Redis, jobs, embedded parts, then the composition (core, pool, database).
  const closers = closerStack();
  closers.push(() => kassa.close());
  try {
    const embedded = kassa.embedded !== null;
    const dataDir = path.resolve(config.KASSA_DATA_DIR);
    const log = opts.jobsLogger ?? consoleLogger;
    // On the embedded database the demo login is the instance's operator too: whoever ran
    // `pnpm start` runs the instance. On a DATABASE_URL operators are granted with `pnpm operator`.
    const seed = await seedDemo(kassa.dataSource, kassa.settings, { logN: opts.passwordLogN }, { operator: embedded });
    const loginFile = path.join(dataDir, 'demo-login.json');
    if (seed.login) await writePrivate(loginFile, JSON.stringify(seed.login));

    // Before buildApp: the CSP is computed at boot from the providers' global settings (e.g. the emulator's origin).
    const defaults = (opts.embeddedDefaults ?? embedded)
      ? await startEmbeddedDefaults(kassa.loaded.plugins, { settings: kassa.settings, log, clock: systemClock, config })
      : null;
    if (defaults) closers.push(() => defaults.close());

    const webhooks = new WebhookService({ dataSource: kassa.dataSource, secretKey: kassa.secretKey, allowPrivateAddresses: config.KASSA_WEBHOOKS_ALLOW_PRIVATE === true });
    const jobs = await createJobsRuntime({
      dataSource: kassa.dataSource, config: loadJobsConfig(envOf(config), kassa.embedded?.url), services: kassa.core, clock: systemClock,
      plugins: kassa.loaded.plugins, pluginHost: kassa.pluginHost, logger: log,
      providers: { providers: kassa.loaded.providers, providerContext: kassa.providerContext }, maintenance: [sessionPurgeTask(kassa.dataSource), exportFilePurgeTask(kassa.dataSource)],
      hostJobs: bulkTaskJobs({ dataSource: kassa.dataSource, core: kassa.core, providers: kassa.loaded.providers, clock: systemClock }),
      webhooks: { service: webhooks },
    });
    closers.push(() => jobs.stop());
    // Embedded: nobody else can reach the database, so this process is the worker. Otherwise `pnpm worker` is.
    if (opts.inProcessJobs ?? embedded) await jobs.start();

    const rateLimitRedis = config.REDIS_URL ? rateLimitCounters(config.REDIS_URL, log) : null;
    if (rateLimitRedis) closers.push(() => rateLimitRedis.quit());
    const serverConfig = {
      baseUrl: config.BASE_URL,
      sessionSecret: createHmac('sha256', kassa.secretKey).update('kassa:session-cookie:v1').digest('hex'),
      logger: config.LOG_LEVEL === 'silent' ? false as const : { level: config.LOG_LEVEL },
      storedEmails: !config.SMTP_URL,
      ...(config.KASSA_APPLE_PAY_DOMAIN_ASSOCIATION_FILE ? { applePayDomainAssociation: associationFile(config.KASSA_APPLE_PAY_DOMAIN_ASSOCIATION_FILE) } : {}),
      ...(config.KASSA_TRUSTED_PROXIES ? { trustProxy: config.KASSA_TRUSTED_PROXIES } : {}),
      ...(opts.passwordLogN ? { passwordLogN: opts.passwordLogN } : {}),
    };
    for (const warning of startupWarnings(serverConfig)) log.warn(warning);
    const app = await buildApp({
      dataSource: kassa.dataSource, clock: systemClock, core: kassa.core, providers: kassa.loaded.providers, providerContext: kassa.providerContext,
      settings: kassa.settings, settingsSchemas: kassa.loaded.settingsSchemas,
      pluginViews: Object.fromEntries(kassa.loaded.views.map((v) => [v.plugin, v.dir])),
      pluginRoutes: kassa.loaded.routes,
      pluginDashboardNotices: kassa.loaded.dashboardNotices,
      logSentences: kassa.loaded.logSentences,
      enqueuePluginJob: (plugin, job, payload, o) => jobs.enqueuePluginJob(plugin, job, payload, o),
      enqueueHostJob: (job, payload, o) => jobs.enqueueHostJob(job, payload, o),
      jobs,
      webhooks: { service: webhooks, enqueue: (deliveries, retryAfterAttempts) => jobs.enqueueWebhookDeliveries(deliveries, retryAfterAttempts) },
      rateLimitRedis,
      rateLimitPrefix: `${config.KASSA_JOBS_PREFIX ?? 'kassa'}-rate-limit:`,
      config: serverConfig,
    });
    closers.push(() => app.close());
    await app.listen({ host: config.HOST, port: config.PORT });

    // After listen: what needs this instance reachable (the emulator's webhook endpoint delivers to our route from now on).
    if (defaults) {
      // The plugin port at instance level (no request, no job): its per-host state closes with the app.
      const runtimes = createPluginRuntimes(kassa.pluginHost, kassa.loaded.plugins);
      closers.push(() => runtimes.close());
      await defaults.afterListen((plugin) => pluginRuntime(runtimes, jobs, plugin, log));
    }

    return {
      url: config.BASE_URL, config, app, kassa, jobs, embeddedDefaults: defaults?.started ?? [],
      login: seed.login ?? (await readPrivateJson<DemoLogin>(loginFile)),
      eventPath: seed.eventUrlPath ?? '/demo/summer-fest/',
      close: () => closers.close(),
    };
  } catch (err) {
    await closers.close();
    throw err;
  }
}

/** A plugin's runtime outside a request or a job (instance level: no organizer). */
function pluginRuntime(runtimes: PluginRuntimes, jobs: JobsRuntime, plugin: string, log: JobsLogger): PluginRuntime {
  return runtimes.runtime(plugin, {
    enqueue: (job, payload, o) => jobs.enqueuePluginJob(plugin, job, payload, { jobId: o?.jobId, delayMs: o?.delayMs, organizerId: null }),
    log: {
      info: (msg, data) => log.info(`${plugin}: ${msg}`, data),
      warn: (msg, data) => log.warn(`${plugin}: ${msg}`, data),
      error: (msg, data) => log.error(`${plugin}: ${msg}`, data),
    },
  });
}

/** With Redis, the rate-limit counters live there (shared by every instance); without, in PostgreSQL. */
function rateLimitCounters(url: string, log: JobsLogger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
  // ioredis reconnects by itself; while Redis is away, limited routes (login, API) fail closed.
  let lastReported = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastReported < 60_000) return;
    lastReported = Date.now();
    log.error('rate-limit counters: Redis unreachable; login and the API are refused until it is back', { error: err.message });
  });
  return redis;
}

/** The environment the jobs config reads, rebuilt from the validated config (a test passes no process env). */
function envOf(config: AppConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(config)) if (v !== undefined) env[k] = String(v);
  return env;
}

/** PORT 0: a free loopback port is taken now, because BASE_URL (return URLs, webhooks) must be known before listening. */
async function withFreePort(config: AppConfig): Promise<AppConfig> {
  if (config.PORT !== 0) return config;
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, config.HOST, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const derived = config.BASE_URL.endsWith(':0');
  const raw: Record<string, unknown> = { ...config, PORT: port };
  if (derived) delete raw.BASE_URL;
  return parseConfig(raw);
}

/** The operator's Apple Pay association file; a path that cannot be read stops the start with the variable named. */
function associationFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`KASSA_APPLE_PAY_DOMAIN_ASSOCIATION_FILE: cannot read ${file} (${(err as Error).message})`);
  }
}
