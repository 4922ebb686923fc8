import type {
  Clock, DataSource, KassaCore, LoadedPlugins, LogSentence, ProviderContextFactory, ProviderRegistry, SettingsSchemas, SettingsStore, WebhookService,
} from '@kassa/core/host';
import type { JobsRuntime } from '@kassa/jobs';
import type { Redis } from 'ioredis';

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
  /** Overrides of the rate limits of infra/rate-limits.ts (benchmarks raise placeOrder; tests lower login). */
  readonly rateLimits?: {
    readonly login?: RateLimit; readonly loginAccount?: RateLimit; readonly placeOrder?: RateLimit;
    readonly api?: RateLimit; readonly apiAddress?: RateLimit;
  };
  /** scrypt cost for hashes made by this process (seed, tests); production leaves it unset. */
  readonly passwordLogN?: number;
  /**
   * The proxies that may set X-Forwarded-For/-Proto/-Host (KASSA_TRUSTED_PROXIES: comma-separated
   * addresses, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`). Default: none, so no client
   * can name its own address to slip past the per-address rate limits (infra/trusted-proxies.ts).
   */
  readonly trustProxy?: string;
  /** Show the stored-emails reader (the embedded default keeps emails in the database). */
  readonly storedEmails?: boolean;
  /** Apple Pay's domain association file, served at /.well-known/… on every host (KASSA_APPLE_PAY_DOMAIN_ASSOCIATION_FILE). */
  readonly applePayDomainAssociation?: string;
  /** How long the dashboard waits for a plugin's notices before leaving them out (default 2,000 ms; tests of a hanging plugin shorten it). */
  readonly dashboardNoticeTimeoutMs?: number;
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
  /** Log sentences of core and the plugins (LoadedPlugins.logSentences); core's alone when absent. */
  readonly logSentences?: Readonly<Record<string, LogSentence>>;
  /** Plugin routes (LoadedPlugins.routes), mounted under /plugins/<name>. */
  readonly pluginRoutes?: LoadedPlugins['routes'];
  /** Plugins that show notices on the organizer's dashboard (LoadedPlugins.dashboardNotices). */
  readonly pluginDashboardNotices?: LoadedPlugins['dashboardNotices'];
  /** Enqueues a plugin job (the jobs runtime); without it a plugin's enqueue fails and its sweeper catches up. */
  readonly enqueuePluginJob?: (plugin: string, job: string, payload: Record<string, unknown>, opts?: { jobId?: string; delayMs?: number; organizerId?: string | null }) => Promise<void>;
  /**
   * Redis for the rate-limit counters, shared by every instance on it (main.ts: REDIS_URL); absent:
   * the counters live in PostgreSQL (table rate_limit_counter), shared by every instance on the database.
   */
  readonly rateLimitRedis?: Redis | null;
  /** Key prefix of those Redis counters (tests give each app its own). */
  readonly rateLimitPrefix?: string;
  /** Failed-jobs list and retry for the control panel; absent when no job runtime is wired. */
  readonly jobs?: Pick<JobsRuntime, 'listFailedJobs' | 'retryJob'> | null;
  /**
   * Organizer webhooks: the endpoints and their delivery log, and how a retry is enqueued (the jobs
   * runtime's enqueueWebhookDeliveries). Absent: no webhook pages or API routes.
   */
  readonly webhooks?: {
    readonly service: WebhookService;
    readonly enqueue?: JobsRuntime['enqueueWebhookDeliveries'];
  } | null;
  /** Enqueues one of the host's jobs (exports, the data shredder: bulk/bulk-jobs.ts); without it they answer 503. */
  readonly enqueueHostJob?: JobsRuntime['enqueueHostJob'];
}
