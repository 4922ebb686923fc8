import { performance } from 'node:perf_hooks';
import Stripe from 'stripe';

/** What the pacer saw, for the charge-run bench and the logs. */
export interface PacerStats {
  requests: number;
  rateLimited: number;
}

/**
 * Client-side rate limit for Stripe requests of one account (reference/stripe-spec.md §6.3): a
 * token bucket (GCRA) at the account's limit (25 requests/s in test mode, 100 in live mode by
 * default) with a small burst, so a charge run stays under the limit instead of meeting 429s. The
 * burst lets requests whose start a busy event loop delayed catch up: with plain spacing, every
 * late timer would be throughput lost for good. A 429 that
 * still comes (another process shares the account) slows the pacer down multiplicatively and the
 * request is sent again after the pause (a 429 is answered before Stripe executes anything, so the
 * same idempotency key is safe); each success lets the rate grow back additively.
 *
 * Why our own: stripe-node retries 429s only when Stripe says so (`Stripe-Should-Retry`) and
 * without pacing, and the generic limiters we looked at (p-limit, bottleneck) either cap
 * concurrency only or bring their own clustering; the pacing needed is a dozen lines.
 */
export class RequestPacer {
  /** The bucket's theoretical arrival time: a request may start once the clock is past it minus the burst. */
  private tat = 0;
  /** Counts the 429s: a request that waited for its slot across one takes a new slot. */
  private epoch = 0;
  private rate: number;
  readonly stats: PacerStats = { requests: 0, rateLimited: 0 };

  constructor(
    /** The configured limit in requests per second. */
    readonly limit: number,
    /** Share of the limit to aim at, leaving room for clock jitter. */
    private readonly target = 0.95,
    private readonly clock: () => number = () => performance.now(),
    private readonly maxRateLimitedRetries = 8,
    /** How far (ms of the pace) requests may run ahead to make up for late starts; Stripe's own bucket holds more. */
    private readonly burstMs = 250,
  ) {
    this.rate = limit * target;
  }

  /** The current pace in requests per second. */
  get currentRate(): number {
    return this.rate;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.slot();
      this.stats.requests++;
      try {
        const result = await call();
        this.rate = Math.min(this.limit * this.target, this.rate + this.limit * 0.01);
        return result;
      } catch (err) {
        if (!isRateLimited(err) || attempt >= this.maxRateLimitedRetries) throw err;
        this.stats.rateLimited++;
        this.slowDown(attempt);
      }
    }
  }

  private async slot(): Promise<void> {
    for (;;) {
      const now = this.clock();
      const tat = Math.max(this.tat, now);
      const at = Math.max(now, tat - this.burstMs);
      this.tat = tat + 1000 / this.rate;
      if (at <= now) return;
      const epoch = this.epoch;
      await new Promise((resolve) => setTimeout(resolve, at - now));
      // A 429 meanwhile: the slot was taken at the old pace, so queue again behind the pause.
      if (epoch === this.epoch) return;
    }
  }

  private slowDown(attempt: number): void {
    this.rate = Math.max(1, this.rate * 0.7);
    this.epoch++;
    // Everyone waits, burst included: the next start moves out by a growing pause. The slots
    // handed out before are void (their waiters take new ones), so they do not stretch the pause.
    this.tat = this.clock() + Math.min(2000, 100 * 2 ** attempt) + this.burstMs;
  }
}

/** A 429 from Stripe (rate_limit, or lock_timeout on one object). */
export function isRateLimited(err: unknown): boolean {
  return err instanceof Stripe.errors.StripeError && err.statusCode === 429;
}
