import type {
  Clock, DataSource, KassaCore, LoadedPlugins, ProviderContextFactory, ProviderRegistry, SettingsSchemas, SettingsStore,
} from '@kassa/core';
import type { JobsRuntime } from '@kassa/jobs';

/** Server-level settings, resolved once from the validated core config by main.ts (or by a test). */
export interface ServerConfig {
  /** Absolute base URL without trailing slash, e.g. "http://127.0.0.1:3000". Secure cookies when https. */
  readonly baseUrl: string;
  /** At least 32 characters; signs the session cookie. main.ts derives it from KASSA_SECRET_KEY. */
  readonly sessionSecret: string;
  /** Recompile templates on every request (development). */
  readonly devTemplates?: boolean;
  /** Request logging (pino): false, or the level. Tests pass false. */
  readonly logger?: false | { readonly level: string };
  /** Overrides of the per-route rate limits (benchmarks raise placeOrder; tests lower login). */
  readonly rateLimits?: { readonly login?: RateLimit; readonly placeOrder?: RateLimit };
  /** scrypt cost for hashes made by this process (seed, tests); production leaves it unset. */
  readonly passwordLogN?: number;
  /**
   * Which peers may set X-Forwarded-For/-Proto (proxy-addr syntax). Default: loopback and private
   * networks, where a TLS-terminating proxy usually sits; a public client cannot then fake its
   * address to slip past the rate limits.
   */
  readonly trustProxy?: string;
  /** Show the stored-emails reader (the embedded default keeps emails in the database). */
  readonly storedEmails?: boolean;
}

export interface RateLimit {
  readonly max: number;
  readonly timeWindow: string | number;
}

/**
 * Everything buildApp needs, wired by main.ts (or by a test). The app creates no database pools,
 * queues or providers of its own, so a test hands in its own test database and clock.
 */
export interface AppDeps {
  readonly dataSource: DataSource;
  readonly config: ServerConfig;
  readonly clock: Clock;
  /** The domain services (createKassaCore). */
  readonly core: KassaCore;
  readonly providers: ProviderRegistry;
  readonly providerContext: ProviderContextFactory;
  readonly settings: SettingsStore;
  readonly settingsSchemas: SettingsSchemas;
  /** Plugin name → folder of its Eta partials (LoadedPlugins.views). */
  readonly pluginViews?: Readonly<Record<string, string>>;
  /** Plugin routes (LoadedPlugins.routes), mounted under /plugins/<name>. */
  readonly pluginRoutes?: LoadedPlugins['routes'];
  /** Enqueues a plugin job (the jobs runtime); without it a plugin's enqueue fails and its sweeper catches up. */
  readonly enqueuePluginJob?: (plugin: string, job: string, payload: Record<string, unknown>, opts?: { jobId?: string; delayMs?: number; organizerId?: string | null }) => Promise<void>;
  /** Failed-jobs list and retry for the control panel; absent when no job runtime is wired. */
  readonly jobs?: Pick<JobsRuntime, 'listFailedJobs' | 'retryJob'> | null;
}
