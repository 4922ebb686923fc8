import type { Clock, DataSource, ProviderContextFactory, ProviderLookup } from '@kassa/core/host';
import type { JobsConfig } from './config';
import type { EmailOutbox } from './emails/email-outbox';

/** Structured log sink; the server passes its pino logger, the CLI a console one. */
export interface JobsLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

/**
 * The core services the periodic jobs call. `createKassaCore()` satisfies it; it is a structural
 * type so that jobs does not need core's service internals.
 */
export interface JobsServices {
  readonly orders: {
    /** Expires pending orders whose deadline has passed; returns what it expired. */
    expireOrders(now: Date): Promise<unknown>;
  };
  /** The charge run of payment plans (docs/payment-plans.md); without it, instalments are not charged. */
  readonly chargeRuns?: {
    run(opts?: { limit?: number }): Promise<{ claimed: number }>;
  };
}

/**
 * The payment providers of this process and their context factory (the composition root's
 * registry), so the emails can ask a provider for its text (`paymentPendingMailRender`).
 */
export interface JobsProviders {
  readonly providers: ProviderLookup;
  readonly providerContext: ProviderContextFactory;
}

/** What processors and event handlers receive. Built once per runtime; no module-level state. */
export interface JobsContext {
  readonly dataSource: DataSource;
  readonly config: JobsConfig;
  readonly clock: Clock;
  readonly logger: JobsLogger;
  readonly emails: EmailOutbox;
  /** Absent when the runtime was started without core services (some tests); expiry is then not scheduled. */
  readonly services: JobsServices | null;
  /** Absent without providers (some tests): emails then carry no provider text. */
  readonly providers: JobsProviders | null;
}

export const consoleLogger: JobsLogger = {
  info: (msg, data) => console.log(JSON.stringify({ level: 'info', msg, ...data })),
  warn: (msg, data) => console.warn(JSON.stringify({ level: 'warn', msg, ...data })),
  error: (msg, data) => console.error(JSON.stringify({ level: 'error', msg, ...data })),
};

export const silentLogger: JobsLogger = { info() {}, warn() {}, error() {} };
