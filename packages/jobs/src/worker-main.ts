/**
 * `kassa worker`: the jobs in their own process. Reads DATABASE_URL (required here: the embedded
 * database lives inside the server process, which then runs the jobs itself), REDIS_URL, SMTP_URL,
 * MAIL_FROM, BASE_URL (links in emails). Stops gracefully on SIGTERM.
 *
 * The composition root (which plugins, core's services, the plugin host) is the server's: its
 * worker entry builds them as the server does (composeKassa) and calls
 * runWorker({ dataSource, plugins, pluginHost, services, onStop }). Run directly, this file
 * relays events, sends emails and runs the schedulers that need no core services.
 */
import { createDataSource, KassaError, type DataSource, type EntityClass, type Plugin } from '@kassa/core/host';
import { loadJobsConfig } from './config';
import { consoleLogger, type JobsLogger, type JobsServices } from './context';
import type { MaintenanceTask } from './maintenance-task';
import type { PluginHost } from './plugin-jobs';
import { createJobsRuntime, type JobsRuntime, type JobsRuntimeOptions } from './runtime';
import { stopOnSignals } from './shutdown';

export interface WorkerMainOptions {
  env?: NodeJS.ProcessEnv;
  /** The host's data source (migrated); without it one is opened on DATABASE_URL and closed on stop. */
  dataSource?: DataSource;
  /** Loaded plugins (the same list the server loads). */
  plugins?: readonly Plugin[];
  /** What plugin jobs receive (core, settings, providers, baseUrl…); required with plugins that declare jobs. */
  pluginHost?: PluginHost;
  /** Core's services (createKassaCore); without them pending orders are not expired. */
  services?: JobsServices | null;
  /** Organizer webhooks (see JobsRuntimeOptions.webhooks); without them no webhook is delivered. */
  webhooks?: JobsRuntimeOptions['webhooks'];
  /** Plugins' entities, when this file opens the data source itself. */
  entities?: EntityClass[];
  /** The host's periodic work on its own tables (the server's session purge). */
  maintenance?: readonly MaintenanceTask[];
  /** The host's on-demand jobs (the server's exports and data shredder). */
  hostJobs?: JobsRuntimeOptions['hostJobs'];
  /** The payment providers and their context factory, for the providers' email text. */
  providers?: JobsRuntimeOptions['providers'];
  /** Called after the runtime stopped, e.g. to close the host's composition. */
  onStop?: () => Promise<void>;
  logger?: JobsLogger;
}

/** Starts the worker and installs the SIGTERM/SIGINT handler; resolves with the running runtime. */
export async function runWorker(opts: WorkerMainOptions = {}): Promise<JobsRuntime> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? consoleLogger;
  if (!env.DATABASE_URL) throw new KassaError('CONFIG_INVALID', { detail: 'kassa worker needs DATABASE_URL; without it the server runs the jobs in-process' });
  const config = loadJobsConfig(env);
  const ownDataSource = opts.dataSource ? null : createDataSource({ url: env.DATABASE_URL, schema: env.KASSA_DB_SCHEMA, entities: opts.entities, poolSize: 5 });
  await ownDataSource?.initialize();
  const dataSource = opts.dataSource ?? ownDataSource!;
  const runtime = await createJobsRuntime({
    dataSource, config, logger, plugins: opts.plugins ?? [], pluginHost: opts.pluginHost, services: opts.services ?? null,
    providers: opts.providers ?? null,
    maintenance: opts.maintenance, webhooks: opts.webhooks ?? null,
    hostJobs: opts.hostJobs,
  });
  // Installed before start: a job can begin before start() returns, and a SIGTERM in that window
  // must stop gracefully too, not kill the process under it.
  stopOnSignals(async () => {
    await runtime.stop();
    await ownDataSource?.destroy();
    await opts.onStop?.();
  }, logger);
  await runtime.start();
  if (!opts.services) logger.warn('started without core services: pending orders are not expired by this worker');
  logger.info('worker started', { backend: config.backend.kind, email: runtime.context.emails.transport, handlers: runtime.handlers.map((h) => h.name) });
  return runtime;
}

if (require.main === module) {
  runWorker().catch((err: unknown) => {
    consoleLogger.error('worker failed to start', { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
