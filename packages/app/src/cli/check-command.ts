import { loadConfig, parseInstanceSettings, type AppConfig } from '@kassa/core/host';
import { Redis } from 'ioredis';
import { createTransport } from 'nodemailer';
import { closerStack, openKassaDatabase } from '../compose-kassa';
import { reason, withTimeout } from './cli-output';
import { migrationStatus } from './migrate-command';

export type CheckOutcome = { part: string; verdict: 'ok' | 'failed' | 'not configured'; detail: string };

/** Stripe's API; the emulator (or a proxy) when the operator set payment.stripe.apiBase. */
const STRIPE_API = 'https://api.stripe.com';

/**
 * `kassa check`: tries each configured part with a timeout, one outcome per part. Read-only: it
 * connects and asks; it never migrates or changes data.
 */
export async function runChecks(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CheckOutcome[]> {
  let config: AppConfig;
  try {
    config = loadConfig(env);
    parseInstanceSettings(config.KASSA_INSTANCE_SETTINGS);
  } catch (err) {
    return [{ part: 'configuration', verdict: 'failed', detail: reason(err) }];
  }
  const outcomes: CheckOutcome[] = [{ part: 'configuration', verdict: 'ok', detail: 'environment variables are valid' }];
  const attempt = async (part: string, configured: string | null, probe: () => Promise<string>) => {
    if (configured === null) return;
    try {
      outcomes.push({ part, verdict: 'ok', detail: await withTimeout(probe(), timeoutMs, `no answer within ${timeoutMs} ms`) });
    } catch (err) {
      outcomes.push({ part, verdict: 'failed', detail: reason(err) });
    }
  };
  // The embedded database is not opened: PGlite serves one process, which may be the running server.
  if (!config.DATABASE_URL) outcomes.push({ part: 'database', verdict: 'not configured', detail: `DATABASE_URL is unset: the embedded PostgreSQL in ${config.KASSA_DATA_DIR} is used (not opened here)` });
  await attempt('database', config.DATABASE_URL ?? null, () => checkDatabase(config));
  if (!config.REDIS_URL) outcomes.push({ part: 'redis', verdict: 'not configured', detail: 'REDIS_URL is unset: jobs run on the database' });
  await attempt('redis', config.REDIS_URL ?? null, () => checkRedis(config.REDIS_URL!, timeoutMs));
  if (!config.SMTP_URL) outcomes.push({ part: 'smtp', verdict: 'not configured', detail: 'SMTP_URL is unset: emails are logged, not sent' });
  await attempt('smtp', config.SMTP_URL ?? null, () => checkSmtp(config.SMTP_URL!, timeoutMs));
  const stripe = parseInstanceSettings(config.KASSA_INSTANCE_SETTINGS)['payment.stripe'] ?? {};
  const secretKey = typeof stripe.secretKey === 'string' ? stripe.secretKey : null;
  if (!secretKey) outcomes.push({ part: 'stripe', verdict: 'not configured', detail: 'no payment.stripe secretKey in KASSA_INSTANCE_SETTINGS' });
  await attempt('stripe', secretKey, () => checkStripe(secretKey!, typeof stripe.apiBase === 'string' && stripe.apiBase ? stripe.apiBase : STRIPE_API));
  return outcomes;
}

async function checkDatabase(config: AppConfig): Promise<string> {
  const closers = closerStack();
  try {
    const { dataSource } = await openKassaDatabase(config, closers);
    const [{ version }] = (await dataSource.query("SELECT current_setting('server_version') AS version")) as [{ version: string }];
    const status = await migrationStatus(dataSource);
    const pending = status.pending.length === 0 ? 'all migrations applied' : `${status.pending.length} pending migrations (pnpm kassa migrate)`;
    return `PostgreSQL ${version}, ${pending}`;
  } finally {
    await closers.close();
  }
}

async function checkRedis(url: string, timeoutMs: number): Promise<string> {
  // No retries and no offline queue: a refused connection is an answer, not something to wait out.
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // The connection's own error (ECONNREFUSED …) says more than the rejected connect ("Connection is closed").
  let connectionError: Error | undefined;
  redis.on('error', (err: Error) => void (connectionError ??= err));
  try {
    await redis.connect().catch((err: unknown) => {
      throw connectionError ?? err;
    });
    const pong = await redis.ping();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    return `${pong}${version ? ` (Redis ${version})` : ''}`;
  } finally {
    redis.disconnect();
  }
}

async function checkSmtp(url: string, timeoutMs: number): Promise<string> {
  const transport = createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  try {
    await transport.verify();
    return `${new URL(url).host} accepts connections`;
  } finally {
    transport.close();
  }
}

/** A read-only call with the key (the balance), against the configured API base. */
async function checkStripe(secretKey: string, apiBase: string): Promise<string> {
  const res = await fetch(`${apiBase.replace(/\/$/, '')}/v1/balance`, { headers: { authorization: `Bearer ${secretKey}` } });
  const body = (await res.json().catch(() => ({}))) as { livemode?: boolean; error?: { message?: string } };
  if (!res.ok) throw new Error(`${apiBase} answered ${res.status}: ${body.error?.message ?? 'no error message'}`);
  return `${apiBase} accepts the ${body.livemode ? 'live' : 'test'} secret key`;
}
