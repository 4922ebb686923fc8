import { createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createDataSource, createKassaCore, createProviderContextFactory, decodeSecretKey, globalSettings, loadConfig, loadPlugins,
  runMigrations, SettingsStore, startEmbeddedPostgres, systemClock, type AppConfig, type EmbeddedPostgres,
} from '@kassa/core';
import { createJobsRuntime, loadJobsConfig, type JobsRuntime } from '@kassa/jobs';
import stripePlugin, { embeddedStripeSettings } from '@kassa/plugin-stripe';
import { startEmulator, type RunningEmulator } from '@kassa/stripe-emulator';
import { buildApp } from './app';
import { seedDemo, type DemoLogin } from './seed/demo-seed';
import { shopMigrations } from './shop';

/**
 * The process entry (`pnpm start`): configuration, database (embedded PGlite when DATABASE_URL is
 * unset), migrations, first-start demo data, plugins, jobs (in-process in embedded mode), HTTP.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const dataDir = path.resolve(config.KASSA_DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const closers: (() => Promise<unknown>)[] = [];
  const shutdown = async (code: number) => {
    for (const close of closers.reverse()) await close().catch((err: unknown) => console.error(err));
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    let embedded: EmbeddedPostgres | null = null;
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres({ dataDir });
      closers.push(() => embedded!.close());
      databaseUrl = embedded.url;
    }
    const secretKey = await loadSecretKey(config, dataDir);
    const loaded = loadPlugins([stripePlugin], { config, clock: systemClock });
    const dataSource = createDataSource({
      url: databaseUrl, entities: [...loaded.entities], migrations: [...shopMigrations, ...loaded.migrations],
      // PGlite serves one connection at a time; a big pool would only queue.
      poolSize: embedded ? 3 : 20,
    });
    await dataSource.initialize();
    closers.push(() => dataSource.destroy());
    await runMigrations(dataSource);

    const settings = new SettingsStore(dataSource, { schemas: loaded.settingsSchemas, secretKey });
    const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock: systemClock, baseUrl: config.BASE_URL });
    const core = createKassaCore({ dataSource, providers: loaded.providers, providerContext, clock: systemClock });

    const seed = await seedDemo(dataSource, settings);
    const loginFile = path.join(dataDir, 'demo-login.json');
    if (seed.login) await writePrivate(loginFile, JSON.stringify(seed.login));

    let emulator: RunningEmulator | null = null;
    if (embedded) {
      // No Stripe account in the embedded default: the plugin talks to the offline emulator, which refuses live keys.
      emulator = await startEmulator({ banner: false });
      closers.push(() => emulator!.close());
      await settings.set(globalSettings, 'payment.stripe', embeddedStripeSettings(emulator));
    }

    // Embedded mode runs the worker in this process; otherwise `pnpm worker` does and this process only lists/retries jobs.
    const jobsOptions = { dataSource, config: loadJobsConfig(process.env, embedded ? databaseUrl : undefined), services: core, clock: systemClock };
    let jobs: JobsRuntime;
    try {
      jobs = await createJobsRuntime({ ...jobsOptions, plugins: loaded.plugins });
    } catch (err) {
      // A plugin whose jobs the runtime cannot schedule must not keep the shop from starting;
      // its periodic work is missing until fixed, and this says so loudly.
      process.stderr.write(`  WARNING: plugin jobs not scheduled: ${err instanceof Error ? err.message : String(err)}\n`);
      jobs = await createJobsRuntime(jobsOptions);
    }
    if (embedded) await jobs.start();
    closers.push(() => jobs.stop());

    const app = await buildApp({
      dataSource, clock: systemClock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
      pluginViews: Object.fromEntries(loaded.views.map((v) => [v.plugin, v.dir])),
      pluginRoutes: loaded.routes,
      jobs,
      config: {
        baseUrl: config.BASE_URL,
        sessionSecret: createHmac('sha256', secretKey).update('kassa:session-cookie:v1').digest('hex'),
        logger: config.LOG_LEVEL === 'silent' ? false : { level: config.LOG_LEVEL },
        storedEmails: !process.env.SMTP_URL,
      },
    });
    closers.push(() => app.close());
    await app.listen({ host: config.HOST, port: config.PORT });

    const login = seed.login ?? (await readDemoLogin(loginFile));
    const lines = [
      '',
      `  Kassa is running at ${config.BASE_URL}/`,
      seed.eventUrlPath ? `  Demo shop:      ${config.BASE_URL}${seed.eventUrlPath}` : `  Demo shop:      ${config.BASE_URL}/demo/summer-fest/`,
      `  Control panel:  ${config.BASE_URL}/control/login`,
      login ? `  Demo login:     ${login.email} / ${login.password}` : '',
      `  API docs:       ${config.BASE_URL}/api/docs`,
      embedded ? `  Data:           ${dataDir} (embedded PostgreSQL; set DATABASE_URL to use your own)` : '',
      '',
    ].filter((l, i, all) => l !== '' || i === 0 || i === all.length - 1);
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    console.error(err);
    await shutdown(1);
  }
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

void main();
