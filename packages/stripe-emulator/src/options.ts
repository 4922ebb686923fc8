import { randomInt } from 'node:crypto';
import type { WalletConfig } from './resources/wallets';
import { resolveRateLimit, type RateLimitOptions, type ResolvedRateLimit } from './rate-limit';

/**
 * Emulator options. Every behaviour the spec marks as unverified or contested (§13) is a
 * knob here, so tests can pin whichever variant they care about.
 */
export interface EmulatorOptions {
  /** Port to bind; 0 (default) picks a free loopback port. */
  port?: number;
  /** Host to bind; defaults to 127.0.0.1. */
  host?: string;
  /** API version assumed when a request sends no Stripe-Version header. */
  defaultApiVersion?: string;
  /** Seed for the pseudo-random choices (ids, fault rates, duplicates); set it to make runs repeat (default: random). */
  seed?: number;
  /** Clock in milliseconds (default Date.now); object timestamps, expiries and signatures use it. */
  now?: () => number;
  /** §1.3: days an online card authorization stays capturable before it expires (checked when the clock is advanced). */
  authorizationWindowDays?: number;
  /** §1.3: confirmations a PI accepts before Stripe cancels it (the real limit is unpublished; null = no limit). */
  maxConfirmationAttempts?: number | null;
  /** Print the "development and tests only" banner to stderr on start (CLI sets this). */
  banner?: boolean;
  /** §7.2: minimum charge amounts per currency in minor units; merged over the built-in table. */
  minimumAmounts?: Record<string, number>;
  /** §7.2: maximum amount digits (default 8). */
  maxAmountDigits?: number;
  /** §13.3: UGX as Stripe's ×100 special case (default) or as a zero-decimal currency. */
  ugxMode?: 'times100' | 'zero-decimal';
  /** §13.4: require three-decimal amounts (BHD, JOD, KWD, OMR, TND) to end in 0 (default true). */
  threeDecimalLastDigitZero?: boolean;
  /** §13.1: error codes for amount-rule violations and for refunding an uncaptured PI (null = no code). */
  errorCodes?: {
    refundUncaptured?: string | null;
    threeDecimalLastDigit?: string | null;
    fractionalTimes100?: string | null;
  };
  /** §13.6: send `Idempotent-Replayed: true` on replayed responses (default true). */
  idempotentReplayedHeader?: boolean;
  /** §13.5: lifetime of OAuth authorization codes and Account Links, in seconds. */
  oauthCodeTtlSeconds?: number;
  accountLinkTtlSeconds?: number;
  /** §13.8: whether the platform's GET /v1/events also lists connected-account events (default false). */
  platformEventsIncludeConnected?: boolean;
  /** §13.9: whether a won dispute also returns the dispute fee (default false). */
  wonDisputeReturnsFee?: boolean;
  /** §13.10: creating a payment method domain that exists: 'error' (default) or 'return_existing'. */
  duplicatePaymentMethodDomain?: 'error' | 'return_existing';
  /** §13.2: redirect_status values used on the return URL after success / failure. */
  redirectStatus?: { succeeded?: string; failed?: string };
  /** §12 endive: on endive+ versions the `payment_method_types` request parameter is gone (stripe-node 23 sends `allowed_payment_method_types`); reject it as unknown (default true). */
  enforceEndiveRemovals?: boolean;
  /** §10: accept raw card numbers (`card[number]`) with a secret key (default false, as Stripe without the raw-card-data permission). */
  allowRawCardDataWithSecretKey?: boolean;
  /** §8.1: decides whether Apple Pay verification passes for a domain (default: passes); may be async. */
  verifyApplePayDomain?: (domain: string) => boolean | Promise<boolean>;
  /**
   * §8.1: fetches a URL the way Apple's verifier does. When set, registering or validating a payment
   * method domain fetches `https://<domain>/.well-known/apple-developer-merchantid-domain-association`
   * through it, and Apple Pay is `active` only when that answers 2xx with a non-empty body. Tests inject
   * it to route the fetch to the server under test (the emulator itself never goes to the network).
   */
  fetchDomainFile?: (url: string) => Promise<{ status: number; body: string }>;
  /** §6.3 rate limiting (token bucket per account, 25/s test, 100/s live); off unless `enabled`. */
  rateLimit?: RateLimitOptions;
  /** Injected failures for a whole run: shares (0..1) of API requests answered 500, left hanging, or executed and then left hanging. */
  chaos?: ChaosOptions;
  /** §8.3: what the Stripe.js double's test wallet offers by default (see POST /_emulator/wallet_config). */
  wallet?: Partial<WalletConfig>;
  /** Card statement descriptor prefix of every new account (`settings.card_payments.statement_descriptor_prefix`, default 'KASSA'). */
  statementDescriptorPrefix?: string;
  /** API versions accepted beyond the ones stripe-node 23.1.0 lists (for trying a newer SDK). */
  extraApiVersions?: string[];
  /** Delays (ms) of the "later" transitions; each can also be forced with POST /_emulator/run_pending. */
  delays?: {
    asyncCaptureBalanceMs?: number;
    refundPendingToSucceededMs?: number;
    refundFailMs?: number;
    payoutPaidMs?: number;
    debitSettlementMs?: number;
    disputeEvidenceResolutionMs?: number;
  };
  /** Webhook delivery knobs (§5.2). */
  webhooks?: WebhookOptions;
}

export interface ChaosOptions {
  error500?: number;
  timeout?: number;
  timeoutAfterCommit?: number;
  /** Only paths starting with this (e.g. '/v1/payment_intents'). */
  path?: string;
}

export interface WebhookOptions {
  /** Delay before the first attempt of each event (ms). */
  delayMs?: number;
  /** Waits between attempts after a failure; its length is the number of retries (§13.7). */
  retryDelaysMs?: number[];
  /** Per-attempt timeout (ms). */
  timeoutMs?: number;
  /** Probability (0..1) that an event is delivered twice. 1 = always. */
  duplicateRate?: number;
  /** Probability (0..1) that an event is lost for an endpoint: never sent, never retried (it stays pending). */
  dropRate?: number;
  /** Deliver the events of one batch in 'reverse' or 'shuffle'd order instead of creation order. */
  reorder?: false | 'reverse' | 'shuffle';
  /** Add a decoy `v0=` signature, as test mode does (default true). */
  v0Decoy?: boolean;
}

export type ResolvedOptions = Required<Omit<EmulatorOptions, 'errorCodes' | 'delays' | 'webhooks' | 'redirectStatus' | 'minimumAmounts' | 'verifyApplePayDomain' | 'fetchDomainFile' | 'now' | 'rateLimit'>> & {
  rateLimit: ResolvedRateLimit;
  fetchDomainFile: EmulatorOptions['fetchDomainFile'] | null;
  now: () => number;
  errorCodes: { refundUncaptured: string | null; threeDecimalLastDigit: string | null; fractionalTimes100: string | null };
  delays: Required<NonNullable<EmulatorOptions['delays']>>;
  webhooks: Required<WebhookOptions>;
  redirectStatus: { succeeded: string; failed: string };
  minimumAmounts: Record<string, number>;
  verifyApplePayDomain: (domain: string) => boolean | Promise<boolean>;
};

/** The API version pinned by stripe-node 23.1.0, which the Stripe plugin uses. */
export const PINNED_API_VERSION = '2026-10-28.endive';

export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  return {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    defaultApiVersion: o.defaultApiVersion ?? PINNED_API_VERSION,
    // Random by default: a restarted dev emulator must not mint ids a database already holds.
    seed: o.seed ?? randomInt(1, 2 ** 31),
    banner: o.banner ?? false,
    now: o.now ?? Date.now,
    authorizationWindowDays: o.authorizationWindowDays ?? 7,
    maxConfirmationAttempts: o.maxConfirmationAttempts ?? null,
    maxAmountDigits: o.maxAmountDigits ?? 8,
    ugxMode: o.ugxMode ?? 'times100',
    threeDecimalLastDigitZero: o.threeDecimalLastDigitZero ?? true,
    errorCodes: {
      refundUncaptured: o.errorCodes?.refundUncaptured ?? null,
      // `null` is a valid choice (no code), so only `undefined` falls back to the default.
      threeDecimalLastDigit: o.errorCodes?.threeDecimalLastDigit === undefined ? 'amount_invalid' : o.errorCodes.threeDecimalLastDigit,
      fractionalTimes100: o.errorCodes?.fractionalTimes100 === undefined ? 'amount_invalid' : o.errorCodes.fractionalTimes100,
    },
    idempotentReplayedHeader: o.idempotentReplayedHeader ?? true,
    oauthCodeTtlSeconds: o.oauthCodeTtlSeconds ?? 300,
    accountLinkTtlSeconds: o.accountLinkTtlSeconds ?? 300,
    platformEventsIncludeConnected: o.platformEventsIncludeConnected ?? false,
    wonDisputeReturnsFee: o.wonDisputeReturnsFee ?? false,
    duplicatePaymentMethodDomain: o.duplicatePaymentMethodDomain ?? 'error',
    redirectStatus: { succeeded: o.redirectStatus?.succeeded ?? 'succeeded', failed: o.redirectStatus?.failed ?? 'failed' },
    enforceEndiveRemovals: o.enforceEndiveRemovals ?? true,
    allowRawCardDataWithSecretKey: o.allowRawCardDataWithSecretKey ?? false,
    verifyApplePayDomain: o.verifyApplePayDomain ?? (() => true),
    fetchDomainFile: o.fetchDomainFile ?? null,
    statementDescriptorPrefix: o.statementDescriptorPrefix ?? 'KASSA',
    wallet: o.wallet ?? {},
    rateLimit: resolveRateLimit(o.rateLimit),
    chaos: o.chaos ?? {},
    extraApiVersions: o.extraApiVersions ?? [],
    minimumAmounts: o.minimumAmounts ?? {},
    delays: {
      asyncCaptureBalanceMs: o.delays?.asyncCaptureBalanceMs ?? 0,
      refundPendingToSucceededMs: o.delays?.refundPendingToSucceededMs ?? 1000,
      refundFailMs: o.delays?.refundFailMs ?? 1000,
      payoutPaidMs: o.delays?.payoutPaidMs ?? 1000,
      debitSettlementMs: o.delays?.debitSettlementMs ?? 1000,
      disputeEvidenceResolutionMs: o.delays?.disputeEvidenceResolutionMs ?? 0,
    },
    webhooks: {
      delayMs: o.webhooks?.delayMs ?? 0,
      retryDelaysMs: o.webhooks?.retryDelaysMs ?? [1000, 5000, 30000],
      timeoutMs: o.webhooks?.timeoutMs ?? 10000,
      duplicateRate: o.webhooks?.duplicateRate ?? 0,
      dropRate: o.webhooks?.dropRate ?? 0,
      reorder: o.webhooks?.reorder ?? false,
      v0Decoy: o.webhooks?.v0Decoy ?? true,
    },
  };
}
