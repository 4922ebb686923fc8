/**
 * `kassa worker`: the jobs in their own process. Reads DATABASE_URL (required here: the embedded
 * database lives inside the server process, which then runs the jobs itself), REDIS_URL, SMTP_URL,
 * MAIL_FROM, BASE_URL (links in emails). Stops gracefully on SIGTERM.
 *
 * The composition root (which plugins, core's services) is the server's CLI: it loads the same
 * plugins as the server and calls runWorker({ plugins, services, entities }). Run directly, this
 * file relays events, sends emails and runs the schedulers that need no core services.
 */
import { createDataSource, KassaError, type EntityClass, type Plugin } from '@kassa/core';
import { loadJobsConfig } from './config';
import { consoleLogger, type JobsServices } from './context';
import type { PluginHost } from './plugin-jobs';
import { createJobsRuntime } from './runtime';
import { stopOnSignals } from './shutdown';

export interface WorkerMainOptions {
  env?: NodeJS.ProcessEnv;
  /** Loaded plugins (the CLI passes the same list the server loads). */
  plugins?: readonly Plugin[];
  /** Core's services; the CLI builds them with createKassaCore(). */
  services?: JobsServices | null;
  /** Plugins' entities, so their handlers can use repositories. */
  entities?: EntityClass[];
  /** What plugin jobs receive (core, settings, providers, baseUrl…); required with plugins that declare jobs. */
  pluginHost?: PluginHost;
}

/** Starts the worker process and resolves once it runs; the signal handler ends it. */
export async function runWorker(opts: WorkerMainOptions = {}): Promise<void> {
  const env = opts.env ?? process.env;
  if (!env.DATABASE_URL) throw new KassaError('CONFIG_INVALID', { detail: 'kassa worker needs DATABASE_URL; without it the server runs the jobs in-process' });
  const config = loadJobsConfig(env);
  const dataSource = createDataSource({ url: env.DATABASE_URL, schema: env.KASSA_DB_SCHEMA, entities: opts.entities, poolSize: 5 });
  await dataSource.initialize();
  const runtime = await createJobsRuntime({ dataSource, config, plugins: opts.plugins ?? [], pluginHost: opts.pluginHost, services: opts.services ?? null, logger: consoleLogger });
  await runtime.start();
  if (!opts.services) consoleLogger.warn('started without core services: pending orders are not expired by this worker (run it through `kassa worker`)');
  consoleLogger.info('worker started', { backend: config.backend.kind, email: runtime.context.emails.transport, handlers: runtime.handlers.map((h) => h.name) });
  stopOnSignals(async () => {
    await runtime.stop();
    await dataSource.destroy();
  }, consoleLogger);
}

if (require.main === module) {
  // Plugins and core services are wired by the CLI (`kassa worker`) through runWorker(); run
  // directly, the worker relays events, sends emails and runs the built-in schedulers.
  runWorker().catch((err: unknown) => {
    consoleLogger.error('worker failed to start', { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
