import { KassaError } from '@kassa/core/host';

/** Where BullMQ keeps its queues. The same processors run on either. */
export type JobsBackendConfig =
  | { readonly kind: 'redis'; readonly url: string; /** Key prefix; one per deployment (and per test file). */ readonly prefix: string }
  | {
      readonly kind: 'postgres';
      /** The main database (DATABASE_URL) or the embedded PGlite's loopback URL. */
      readonly url: string;
      /** Schema BullMQ creates its tables in; one per deployment (and per test file). */
      readonly schema: string;
      /** Connections per queue or worker pool; PGlite serves one at a time, so keep it small. */
      readonly poolSize: number;
    };

/** Validated, frozen jobs configuration. */
export interface JobsConfig {
  readonly backend: JobsBackendConfig;
  /** SMTP_URL (smtp://user:pass@host:port); without it emails are stored for the control panel. */
  readonly smtpUrl: string | null;
  /** From address of every email Kassa sends. */
  readonly mailFrom: string;
  /** Public base URL of the shop (BASE_URL), for links in emails; no trailing slash. */
  readonly publicUrl: string;
  readonly retry: RetrySettings;
  readonly worker: WorkerSettings;
  readonly emails: EmailSettings;
}

export interface EmailSettings {
  /**
   * How long after a payment asked for the buyer's action (3-D Secure, a bank app) the
   * "please complete your payment" email waits; it is sent only if the payment still waits then.
   * 0 checks at once. Off-session payments do not wait.
   */
  readonly actionRequiredDelayMs: number;
}

export interface RetrySettings {
  /** Attempts per job, the first one included. */
  readonly attempts: number;
  /** First backoff delay; doubles on each retry, with jitter. */
  readonly backoffMs: number;
}

export interface WorkerSettings {
  /** Jobs one worker process runs at the same time per queue. */
  readonly concurrency: number;
  /** How long a job's lock lasts without renewal: a killed worker's job is picked up again after it. */
  readonly lockDurationMs: number;
  /** How often workers look for jobs whose worker died. */
  readonly stalledIntervalMs: number;
  /** How often the relay looks for new outbox events when idle. */
  readonly relayPollMs: number;
  /** How long an event waits before looking again whether the earlier events of its order are done. */
  readonly orderWaitMs: number;
  /**
   * A relayed event still without a delivery record after this long is enqueued again (its job
   * may be gone: a Redis restarted without persistence, a crash between enqueue steps). The same
   * job id makes this a no-op while the job exists.
   */
  readonly strandedAfterMs: number;
  /**
   * How often a worker checks that its job schedulers exist and re-creates missing ones (besides
   * on every Redis reconnect): a Redis that lost its data without a reconnect is repaired within this.
   */
  readonly schedulerCheckMs: number;
}

export const defaultRetry: RetrySettings = Object.freeze({ attempts: 5, backoffMs: 2_000 });
export const defaultEmails: EmailSettings = Object.freeze({ actionRequiredDelayMs: 15 * 60_000 });
export const defaultWorker: WorkerSettings = Object.freeze({
  concurrency: 8, lockDurationMs: 30_000, stalledIntervalMs: 30_000, relayPollMs: 500, orderWaitMs: 500, strandedAfterMs: 60_000, schedulerCheckMs: 60_000,
});

const knownKeys = new Set(['backend', 'smtpUrl', 'mailFrom', 'publicUrl', 'retry', 'worker', 'emails']);

/** Builds the configuration from explicit values, checking every field; unknown keys are refused. */
export function defineJobsConfig(input: {
  backend: JobsBackendConfig;
  smtpUrl?: string | null;
  mailFrom?: string;
  publicUrl?: string;
  retry?: Partial<RetrySettings>;
  worker?: Partial<WorkerSettings>;
  emails?: Partial<EmailSettings>;
}): JobsConfig {
  for (const key of Object.keys(input)) {
    if (!knownKeys.has(key)) invalid(`unknown jobs setting "${key}"`);
  }
  const backend = input.backend;
  if (backend.kind === 'redis') {
    if (!/^rediss?:\/\//.test(backend.url)) invalid(`REDIS_URL must start with redis:// or rediss://, got "${backend.url}"`);
  } else if (backend.kind === 'postgres') {
    if (!/^postgres(ql)?:\/\//.test(backend.url)) invalid(`the jobs database URL must start with postgres://, got "${backend.url}"`);
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(backend.schema)) invalid(`jobs schema "${backend.schema}" must be a lower-case identifier`);
    positiveInt('postgres poolSize', backend.poolSize);
  } else {
    invalid('backend.kind must be "redis" or "postgres"');
  }
  const smtpUrl = input.smtpUrl ?? null;
  if (smtpUrl !== null && !/^smtps?:\/\//.test(smtpUrl)) invalid(`SMTP_URL must start with smtp:// or smtps://, got "${smtpUrl}"`);
  const retry = { ...defaultRetry, ...input.retry };
  positiveInt('retry.attempts', retry.attempts);
  positiveInt('retry.backoffMs', retry.backoffMs);
  const worker = { ...defaultWorker, ...input.worker };
  for (const [key, value] of Object.entries(worker)) positiveInt(`worker.${key}`, value);
  const emails = { ...defaultEmails, ...input.emails };
  const delay = emails.actionRequiredDelayMs;
  if (!Number.isSafeInteger(delay) || delay < 0) invalid(`emails.actionRequiredDelayMs must be a non-negative integer, got ${String(delay)}`);
  const publicUrl = (input.publicUrl ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(publicUrl)) invalid(`BASE_URL must be an http(s) URL, got "${publicUrl}"`);
  return Object.freeze({
    backend: Object.freeze({ ...backend }),
    smtpUrl,
    mailFrom: input.mailFrom ?? 'Kassa <noreply@kassa.invalid>',
    publicUrl,
    retry: Object.freeze(retry),
    worker: Object.freeze(worker),
    emails: Object.freeze(emails),
  });
}

/**
 * Reads the environment: REDIS_URL selects Redis; otherwise BullMQ's PostgreSQL backend runs on
 * the main database (DATABASE_URL, or `embeddedDatabaseUrl` when the server started PGlite).
 */
export function loadJobsConfig(env: NodeJS.ProcessEnv = process.env, embeddedDatabaseUrl?: string): JobsConfig {
  const databaseUrl = env.DATABASE_URL ?? embeddedDatabaseUrl;
  let backend: JobsBackendConfig;
  if (env.REDIS_URL) {
    backend = { kind: 'redis', url: env.REDIS_URL, prefix: env.KASSA_JOBS_PREFIX ?? 'kassa' };
  } else if (databaseUrl) {
    backend = { kind: 'postgres', url: databaseUrl, schema: env.KASSA_JOBS_SCHEMA ?? 'bullmq', poolSize: embeddedDatabaseUrl && !env.DATABASE_URL ? 1 : 3 };
  } else {
    invalid('neither REDIS_URL nor DATABASE_URL is set, and no embedded database was started');
  }
  return defineJobsConfig({
    backend,
    smtpUrl: env.SMTP_URL || null,
    mailFrom: env.MAIL_FROM,
    // The server's BASE_URL (core's config) is where the shop answers, so links in emails use it.
    // No KASSA_* variable of our own: core's loadConfig refuses unknown ones.
    publicUrl: env.BASE_URL,
    emails: env.KASSA_ACTION_EMAIL_DELAY_SECONDS ? { actionRequiredDelayMs: seconds('KASSA_ACTION_EMAIL_DELAY_SECONDS', env.KASSA_ACTION_EMAIL_DELAY_SECONDS) * 1000 } : {},
  });
}

function seconds(name: string, value: string): number {
  const n = /^\d{1,7}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n)) invalid(`${name} must be a whole number of seconds, got "${value}"`);
  return n;
}

function positiveInt(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) invalid(`${field} must be a positive integer, got ${String(value)}`);
}

function invalid(detail: string): never {
  throw new KassaError('CONFIG_INVALID', { detail });
}
