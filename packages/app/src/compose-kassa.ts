import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  applyInstanceSettings, createDataSource, createKassaCore, createProviderContextFactory, decodeSecretKey, loadPlugins, parseInstanceSettings,
  runMigrations, SettingsStore, startEmbeddedPostgres, systemClock,
  type AppConfig, type DataSource, type EmbeddedPostgres, type KassaCore, type LoadedPlugins, type Plugin,
} from '@kassa/core/host';
import { consoleLogger, type PluginHost } from '@kassa/jobs';
import { shopMigrations } from '@kassa/server';
import { bundledPlugins } from './bundled-plugins';
import { writePrivate } from './private-file';

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
  /** Closes what compose opened, in reverse order: core's batchers and caches, the pool, the embedded database. */
  close(): Promise<void>;
}

/** A closer list run in reverse; a failing closer is logged and the rest still run. */
export function closerStack(): { push(close: () => Promise<unknown>): void; close(): Promise<void> } {
  const closers: (() => Promise<unknown>)[] = [];
  return {
    push: (c) => void closers.push(c),
    async close() {
      for (const c of closers.splice(0).reverse()) await c().catch((err: unknown) => consoleLogger.error('close failed', { error: String(err) }));
    },
  };
}

/** The database of a composition, connected but not migrated (the operator CLI's `migrate` and `check` stop here). */
export interface KassaDatabase {
  readonly dataSource: DataSource;
  readonly loaded: LoadedPlugins;
  readonly embedded: EmbeddedPostgres | null;
}

/**
 * Opens the database (embedded PGlite when DATABASE_URL is unset) with core's, the shop's and the
 * plugins' entities and migrations, without running them. Closers go on `closers`.
 */
export async function openKassaDatabase(config: AppConfig, closers: ReturnType<typeof closerStack>, opts: { plugins?: readonly Plugin[] } = {}): Promise<KassaDatabase> {
  const dataDir = path.resolve(config.KASSA_DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  let embedded: EmbeddedPostgres | null = null;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    const started = await startEmbeddedPostgres({ dataDir });
    closers.push(() => started.close());
    embedded = started;
    databaseUrl = started.url;
  }
  const loaded = loadPlugins([...(opts.plugins ?? bundledPlugins)], { config, clock: systemClock });
  const dataSource = createDataSource({
    url: databaseUrl, schema: config.KASSA_DB_SCHEMA, entities: [...loaded.entities], migrations: [...shopMigrations, ...loaded.migrations],
    // PGlite serves one connection at a time; a big pool would only queue.
    poolSize: embedded ? 3 : 20,
  });
  await dataSource.initialize();
  closers.push(() => dataSource.destroy());
  if (config.KASSA_DB_SCHEMA) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${config.KASSA_DB_SCHEMA}"`);
  return { dataSource, loaded, embedded };
}

/**
 * Opens the database (embedded PGlite when DATABASE_URL is unset), runs core's, the shop's and the
 * plugins' migrations, and builds settings and core's services. No HTTP, no jobs.
 */
export async function composeKassa(config: AppConfig, opts: { plugins?: readonly Plugin[] } = {}): Promise<KassaComposition> {
  const dataDir = path.resolve(config.KASSA_DATA_DIR);
  const closers = closerStack();
  try {
    const { dataSource, loaded, embedded } = await openKassaDatabase(config, closers, opts);
    const secretKey = await loadSecretKey(config, dataDir);
    await runMigrations(dataSource);
    const settings = new SettingsStore(dataSource, { schemas: loaded.settingsSchemas, secretKey, cacheMs: config.KASSA_SETTINGS_CACHE_MS });
    // The operator's instance-level settings (the only way to set instance-only ones), before
    // anything reads them: the CSP and the Stripe connection are built from the global level.
    await applyInstanceSettings(settings, parseInstanceSettings(config.KASSA_INSTANCE_SETTINGS));
    const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock: systemClock, baseUrl: config.BASE_URL });
    const core = createKassaCore({ dataSource, providers: loaded.providers, providerContext, clock: systemClock });
    // Core's batchers and caches belong to this composition: they are flushed and dropped before the pool closes.
    // core owns the placement batcher and the catalogue cache of its DataSource: closed before the pool.
    closers.push(() => core.close());
    const pluginHost: PluginHost = { core, dataSource, settings, providers: loaded.providers, clock: systemClock, config, baseUrl: config.BASE_URL };
    return { config, dataSource, loaded, settings, core, providerContext, pluginHost, embedded, secretKey, close: () => closers.close() };
  } catch (err) {
    await closers.close();
    throw err;
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
