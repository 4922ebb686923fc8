import { performance } from 'node:perf_hooks';
import { ApiError } from './errors';

/**
 * §6.3 rate limits, as a token bucket per account: `ratePerSecond` tokens refill continuously,
 * up to `burst`; each API request (read or write) takes one, and a request that finds the bucket
 * empty is answered 429 `rate_limit` before it executes (so nothing is stored under its
 * idempotency key, as at Stripe). Off unless enabled: tests and the dev server would otherwise
 * meet 429s they did not ask for.
 */
export interface RateLimitOptions {
  /** Default false. */
  enabled?: boolean;
  /** Stripe's defaults: 25 requests/s in test mode (sandboxes), 100 in live mode. Default 'test'. */
  mode?: 'test' | 'live';
  /** Overrides the mode's rate. */
  ratePerSecond?: number;
  /** Bucket size (the burst an idle account may send at once); default = the rate. */
  burst?: number;
  /** Value of `Stripe-Should-Retry` on a 429 (unverified what Stripe sends; default false: back off yourself). */
  shouldRetry?: boolean;
  /** Per-account limits (`acct_…` → requests/s), e.g. a platform with a raised limit. */
  accounts?: Record<string, number>;
  /** Monotonic clock in ms (default performance.now); tests inject one to refill deterministically. */
  clock?: () => number;
}

export interface ResolvedRateLimit {
  enabled: boolean;
  mode: 'test' | 'live';
  ratePerSecond: number | null;
  burst: number | null;
  shouldRetry: boolean;
  accounts: Record<string, number>;
  clock: () => number;
}

export const resolveRateLimit = (o: RateLimitOptions = {}): ResolvedRateLimit => ({
  enabled: o.enabled ?? false,
  mode: o.mode ?? 'test',
  ratePerSecond: o.ratePerSecond ?? null,
  burst: o.burst ?? null,
  shouldRetry: o.shouldRetry ?? false,
  accounts: { ...o.accounts },
  clock: o.clock ?? (() => performance.now()),
});

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(public config: ResolvedRateLimit) {}

  configure(patch: Partial<ResolvedRateLimit>): ResolvedRateLimit {
    this.config = { ...this.config, ...patch, accounts: { ...this.config.accounts, ...patch.accounts } };
    this.buckets.clear();
    return this.config;
  }

  reset(): void {
    this.buckets.clear();
  }

  /** Requests per second allowed for an account. */
  rateFor(accountId: string): number {
    return this.config.accounts[accountId] ?? this.config.ratePerSecond ?? (this.config.mode === 'live' ? 100 : 25);
  }

  /** Takes a token for the account; false when the bucket is empty (the request gets a 429). */
  take(accountId: string): boolean {
    if (!this.config.enabled) return true;
    const rate = this.rateFor(accountId);
    const burst = this.config.burst ?? rate;
    const now = this.config.clock();
    let b = this.buckets.get(accountId);
    if (!b) {
      b = { tokens: burst, at: now };
      this.buckets.set(accountId, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * rate) / 1000);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  error(): ApiError {
    return new ApiError(
      429,
      'invalid_request_error',
      'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
      { code: 'rate_limit', doc_url: 'https://stripe.com/docs/error-codes/rate-limit' },
      { 'Stripe-Should-Retry': String(this.config.shouldRetry) },
    );
  }

  view(): Record<string, unknown> {
    const c = this.config;
    return {
      enabled: c.enabled,
      mode: c.mode,
      rate_per_second: c.ratePerSecond ?? (c.mode === 'live' ? 100 : 25),
      burst: c.burst,
      should_retry: c.shouldRetry,
      accounts: c.accounts,
    };
  }
}
