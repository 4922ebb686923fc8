import { createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import {
  applyInstanceSettings, createDataSource, createKassaCore, createProviderContextFactory, decodeSecretKey, globalSettings, loadPlugins, parseConfig, parseInstanceSettings,
  runMigrations, SettingsStore, startEmbeddedPostgres, systemClock,
  type AppConfig, type DataSource, type EmbeddedPostgres, type KassaCore, type LoadedPlugins, type Plugin,
} from '@kassa/core/host';
import { consoleLogger, createJobsRuntime, loadJobsConfig, type JobsLogger, type JobsRuntime, type PluginHost } from '@kassa/jobs';
import stripePlugin, { STRIPE_NAMESPACE, createWebhookEndpoint, embeddedStripeSettings } from '@kassa/plugin-stripe';
import { startEmulator, type RunningEmulator } from '@kassa/stripe-emulator';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from './app';
import { startupWarnings } from './infra/trusted-proxies';
import { seedDemo, type DemoLogin } from './seed/demo-seed';
import { shopMigrations } from './shop';
import { sessionPurgeTask } from './infra/session-store';

/** The plugins this distribution ships with; main.ts, the worker and the e2e test load the same list. */
export const bundledPlugins: readonly Plugin[] = [stripePlugin];

/** The secret key of the embedded default's emulator account (test mode only: the emulator refuses live keys). */
const EMBEDDED_STRIPE_KEY = 'sk_test_kassaEmbedded';

/** The composition shared by the server and the separate worker: database, plugins, settings, core. */
export interface KassaComposition {
  readonly config: AppConfig;
  readonly dataSource: DataSource;
  readonly loaded: LoadedPlugins;
  readonly settings: SettingsStore;
  readonly core: KassaCore;
  readonly providerContext: ReturnType<typeof createProviderContextFactory>;
  /** What plugin jobs and routes receive besides enqueue and log. */
  readonly pluginHost: PluginHost;
  /** The embedded PostgreSQL, when no DATABASE_URL was set. */
  readonly embedded: EmbeddedPostgres | null;
  readonly secretKey: Buffer;
  /** Closes what compose opened, in reverse order. */
  close(): Promise<void>;
}

/**
 * Opens the database (embedded PGlite when DATABASE_URL is unset), runs core's, the shop's and the
 * plugins' migrations, and builds settings and core's services. No HTTP, no jobs.
 */
export async function composeKassa(config: AppConfig, opts: { plugins?: readonly Plugin[] } = {}): Promise<KassaComposition> {
  const dataDir = path.resolve(config.KASSA_DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((err: unknown) => consoleLogger.error('close failed', { error: String(err) }));
  };
  try {
    let embedded: EmbeddedPostgres | null = null;
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres({ dataDir });
      closers.push(() => embedded!.close());
      databaseUrl = embedded.url;
    }
    const secretKey = await loadSecretKey(config, dataDir);
    const loaded = loadPlugins([...(opts.plugins ?? bundledPlugins)], { config, clock: systemClock });
    const dataSource = createDataSource({
      url: databaseUrl, schema: config.KASSA_DB_SCHEMA, entities: [...loaded.entities], migrations: [...shopMigrations, ...loaded.migrations],
      // PGlite serves one connection at a time; a big pool would only queue.
      poolSize: embedded ? 3 : 20,
    });
    await dataSource.initialize();
    closers.push(() => dataSource.destroy());
    if (config.KASSA_DB_SCHEMA) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${config.KASSA_DB_SCHEMA}"`);
    await runMigrations(dataSource);
    const settings = new SettingsStore(dataSource, { schemas: loaded.settingsSchemas, secretKey, cacheMs: config.KASSA_SETTINGS_CACHE_MS });
    // The operator's instance-level settings (the only way to set instance-only ones), before
    // anything reads them: the CSP and the Stripe connection are built from the global level.
    await applyInstanceSettings(settings, parseInstanceSettings(config.KASSA_INSTANCE_SETTINGS));
    const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock: systemClock, baseUrl: config.BASE_URL });
    const core = createKassaCore({ dataSource, providers: loaded.providers, providerContext, clock: systemClock });
    const pluginHost: PluginHost = { core, dataSource, settings, providers: loaded.providers, clock: systemClock, config, baseUrl: config.BASE_URL };
    return { config, dataSource, loaded, settings, core, providerContext, pluginHost, embedded, secretKey, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface StartKassaOptions {
  /** Run the job workers, the outbox relay and the schedulers in this process. Default: with the embedded database. */
  inProcessJobs?: boolean;
  /**
   * Start the offline Stripe emulator and point the instance-wide Stripe settings at it (keys,
   * apiBase, Stripe.js URL, a webhook endpoint). Default: with the embedded database. Never
   * replaces Stripe keys someone configured globally.
   */
  stripeEmulator?: boolean;
  /** scrypt cost for the demo login's hash (tests); production leaves it unset. */
  passwordLogN?: number;
  /** Jobs logging and start-up warnings; default the console. */
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
  readonly emulator: RunningEmulator | null;
  /** The demo login: printed on first start, read back from the data directory later. */
  readonly login: DemoLogin | null;
  /** Path of the demo event's page (seeded on first start). */
  readonly eventPath: string;
  /** Graceful: HTTP, then jobs (in-flight jobs finish), emulator, database. */
  close(): Promise<void>;
}

/**
 * The whole stack as `pnpm start` runs it: composition, first-start demo data, the embedded Stripe
 * emulator, the jobs runtime (its worker in-process in the embedded default), and the HTTP app
 * listening on HOST:PORT. PORT 0 picks a free port (BASE_URL follows unless set explicitly).
 */
export async function startKassa(inputConfig: AppConfig, opts: StartKassaOptions = {}): Promise<RunningKassa> {
  const config = await withFreePort(inputConfig);
  const kassa = await composeKassa(config);
  const closers: (() => Promise<unknown>)[] = [() => kassa.close()];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((err: unknown) => consoleLogger.error('close failed', { error: String(err) }));
  };
  try {
    const embedded = kassa.embedded !== null;
    const dataDir = path.resolve(config.KASSA_DATA_DIR);
    // On the embedded database the demo login is the instance's operator too: whoever ran
    // `pnpm start` runs the instance. On a DATABASE_URL operators are granted with `pnpm operator`.
    const seed = await seedDemo(kassa.dataSource, kassa.settings, { logN: opts.passwordLogN }, { operator: embedded });
    const loginFile = path.join(dataDir, 'demo-login.json');
    if (seed.login) await writePrivate(loginFile, JSON.stringify(seed.login));

    // Before buildApp: the CSP is computed at boot from the global Stripe settings (the emulator's origin).
    const emulator = (opts.stripeEmulator ?? embedded) ? await useEmbeddedStripe(kassa) : null;
    if (emulator) closers.push(() => emulator.close());

    const jobsLogger = opts.jobsLogger ?? consoleLogger;
    const jobs = await createJobsRuntime({
      dataSource: kassa.dataSource, config: loadJobsConfig(envOf(config), kassa.embedded?.url), services: kassa.core, clock: systemClock,
      plugins: kassa.loaded.plugins, pluginHost: kassa.pluginHost, logger: jobsLogger, maintenance: [sessionPurgeTask(kassa.dataSource)],
    });
    closers.push(() => jobs.stop());
    // Embedded: nobody else can reach the database, so this process is the worker. Otherwise `pnpm worker` is.
    if (opts.inProcessJobs ?? embedded) await jobs.start();

    // With Redis, the rate-limit counters live there (shared by every instance); without, in PostgreSQL.
    const rateLimitRedis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: false }) : null;
    if (rateLimitRedis) {
      // ioredis reconnects by itself; while Redis is away, limited routes (login, API) fail closed.
      let lastReported = 0;
      rateLimitRedis.on('error', (err: Error) => {
        if (Date.now() - lastReported < 60_000) return;
        lastReported = Date.now();
        jobsLogger.error('rate-limit counters: Redis unreachable; login and the API are refused until it is back', { error: err.message });
      });
      closers.push(() => rateLimitRedis.quit());
    }
    const serverConfig = {
      baseUrl: config.BASE_URL,
      sessionSecret: createHmac('sha256', kassa.secretKey).update('kassa:session-cookie:v1').digest('hex'),
      logger: config.LOG_LEVEL === 'silent' ? false as const : { level: config.LOG_LEVEL },
      storedEmails: !config.SMTP_URL,
      ...(config.KASSA_TRUSTED_PROXIES ? { trustProxy: config.KASSA_TRUSTED_PROXIES } : {}),
      ...(opts.passwordLogN ? { passwordLogN: opts.passwordLogN } : {}),
    };
    for (const warning of startupWarnings(serverConfig)) jobsLogger.warn(warning);
    const app = await buildApp({
      dataSource: kassa.dataSource, clock: systemClock, core: kassa.core, providers: kassa.loaded.providers, providerContext: kassa.providerContext,
      settings: kassa.settings, settingsSchemas: kassa.loaded.settingsSchemas,
      pluginViews: Object.fromEntries(kassa.loaded.views.map((v) => [v.plugin, v.dir])),
      pluginRoutes: kassa.loaded.routes,
      enqueuePluginJob: (plugin, job, payload, o) => jobs.enqueuePluginJob(plugin, job, payload, o),
      jobs,
      rateLimitRedis,
      rateLimitPrefix: `${config.KASSA_JOBS_PREFIX ?? 'kassa'}-rate-limit:`,
      config: serverConfig,
    });
    closers.push(() => app.close());
    await app.listen({ host: config.HOST, port: config.PORT });

    // After listen: the emulator delivers events to our webhook route from now on.
    if (emulator) await registerEmbeddedWebhook(kassa, jobsLogger);

    return {
      url: config.BASE_URL, config, app, kassa, jobs, emulator,
      login: seed.login ?? (await readDemoLogin(loginFile)),
      eventPath: seed.eventUrlPath ?? '/demo/summer-fest/',
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The embedded default has no Stripe account: the plugin talks to an in-process emulator. Its
 * port changes on every start, so the global settings are refreshed each time, unless someone
 * configured other Stripe keys globally (then the emulator is not started at all).
 */
async function useEmbeddedStripe(kassa: KassaComposition): Promise<RunningEmulator | null> {
  const current = await kassa.settings.resolve(globalSettings, STRIPE_NAMESPACE, { fresh: true });
  if (typeof current.secretKey === 'string' && current.secretKey !== EMBEDDED_STRIPE_KEY) return null;
  const emulator = await startEmulator({ banner: false });
  await kassa.settings.set(globalSettings, STRIPE_NAMESPACE, embeddedStripeSettings(emulator, EMBEDDED_STRIPE_KEY));
  return emulator;
}

/**
 * Creates the webhook endpoint at the (fresh) emulator with the plugin's own function (the one the
 * "Create webhook endpoint" button ends in), at the global level only the host may write, so events
 * flow back to this instance. When it fails, the plugin's polling job still keeps payments up to
 * date; this says so.
 */
async function registerEmbeddedWebhook(kassa: KassaComposition, log: JobsLogger): Promise<void> {
  try {
    await createWebhookEndpoint(kassa.pluginHost, globalSettings);
  } catch (err) {
    log.warn('embedded Stripe: webhook endpoint not created, payments are polled instead', { error: err instanceof Error ? err.message : String(err) });
  }
}

// The server's hourly session purge, contributed to the jobs runtime as a maintenance task
// (re-exported for worker.ts until the composition moves to packages/app).
export { sessionPurgeTask };

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

/**
 * KASSA_SECRET_KEY when set; otherwise a key generated once and kept in the data directory
 * (mode 0600), so a development instance keeps reading its own encrypted settings across restarts.
 */
async function loadSecretKey(config: AppConfig, dataDir: string): Promise<Buffer> {
  if (config.KASSA_SECRET_KEY) return decodeSecretKey(config.KASSA_SECRET_KEY);
  const file = path.join(dataDir, 'secret-key');
  try {
    return decodeSecretKey((await readFile(file, 'utf8')).trim());
  } catch {
    const key = randomBytes(32);
    await writePrivate(file, key.toString('hex'));
    process.stderr.write(`  No KASSA_SECRET_KEY set: generated one in ${file}. Set KASSA_SECRET_KEY in production.\n`);
    return key;
  }
}

async function writePrivate(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
}

async function readDemoLogin(file: string): Promise<DemoLogin | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DemoLogin;
  } catch {
    return null;
  }
}
