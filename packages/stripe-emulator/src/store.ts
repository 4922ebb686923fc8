import { createHash } from 'node:crypto';
import type { Account, StripeEvent, WebhookEndpoint } from './types';
import type { IdempotencyStore } from './idempotency';
import { createIdempotencyStore } from './idempotency';

/** Prefix of each collection's ids, so `expand` and cross-lookups can find an object by id alone. */
export const PREFIX_TO_COLLECTION: Record<string, string> = {
  pi: 'payment_intent', seti: 'setup_intent', pm: 'payment_method', cus: 'customer', ch: 'charge', re: 'refund',
  du: 'dispute', evt: 'event', we: 'webhook_endpoint', pmd: 'payment_method_domain', tr: 'transfer', trr: 'transfer_reversal',
  fee: 'application_fee', fr: 'fee_refund', po: 'payout', txn: 'balance_transaction', acct: 'account', apwc: 'apple_pay_domain',
};

export interface Balance {
  available: number;
  pending: number;
}

/**
 * Everything one Stripe account owns. A platform is created per sk_test_ key; connected
 * accounts are created through /v1/accounts or OAuth and point at their platform.
 */
export class AccountState {
  readonly collections = new Map<string, Map<string, { id: string; created: number }>>();
  readonly events: StripeEvent[] = [];
  readonly idempotency: IdempotencyStore = createIdempotencyStore();
  readonly balances = new Map<string, Balance>();
  /** PMs that completed a setup (SetupIntent or setup_future_usage), for the "authenticate unless set up" cards. */
  readonly setUpPaymentMethods = new Set<string>();
  /** Card numbers behind each PaymentMethod (the API never returns the full number). */
  readonly cardNumbers = new Map<string, string>();
  /** PIs whose 3DS challenge passed under manual confirmation: the next confirm skips the challenge. */
  readonly authenticatedIntents = new Set<string>();
  /** Confirmation attempts per PI, for the optional attempt limit (§1.3). */
  readonly confirmAttempts = new Map<string, number>();
  /** Detached PMs may never be used again (§2.2). */
  readonly detachedPaymentMethods = new Set<string>();
  /** PMs without a customer that already paid once (§1.8 PM reuse rule). */
  readonly consumedPaymentMethods = new Set<string>();
  /** Account numbers behind each bank account (payouts to Stripe's failing test numbers fail). */
  readonly bankNumbers = new Map<string, string>();
  /** Balance transactions already swept into an automatic payout, and each automatic payout's transactions. */
  readonly paidOutTransactions = new Set<string>();
  readonly payoutTransactions = new Map<string, string[]>();
  /** The Idempotency-Key of the request that made each charge (double-charge report). */
  readonly chargeKeys = new Map<string, string | null>();
  /** Secrets of each webhook endpoint still inside their rotation grace period. */
  readonly rolledSecrets = new Map<string, { secret: string; expiresAt: number }[]>();

  constructor(
    readonly id: string,
    readonly account: Account,
    public platformId: string | null,
    readonly publishableKey: string,
    readonly clientId: string,
  ) {}

  coll<T extends { id: string; created: number }>(name: string): Map<string, T> {
    let c = this.collections.get(name);
    if (!c) {
      c = new Map();
      this.collections.set(name, c);
    }
    return c as Map<string, T>;
  }

  get<T extends { id: string; created: number }>(name: string, id: string): T | undefined {
    return this.coll<T>(name).get(id);
  }

  put<T extends { id: string; created: number }>(name: string, obj: T): T {
    this.coll<T>(name).set(obj.id, obj);
    return obj;
  }

  findById(id: string): unknown {
    const prefix = id.slice(0, id.indexOf('_'));
    const name = PREFIX_TO_COLLECTION[prefix];
    return name ? this.collections.get(name)?.get(id) : undefined;
  }

  balance(currency: string): Balance {
    let b = this.balances.get(currency);
    if (!b) {
      b = { available: 0, pending: 0 };
      this.balances.set(currency, b);
    }
    return b;
  }

  endpoints(): WebhookEndpoint[] {
    const c = this.collections.get('webhook_endpoint');
    return c && c.size > 0 ? ([...c.values()] as WebhookEndpoint[]) : [];
  }
}

/** Stable derivations from a secret key, so the matching pk_/ca_ values are predictable in tests. */
export function keyDigest(secretKey: string): string {
  return createHash('sha256').update(secretKey).digest('hex');
}

export function publishableKeyFor(secretKey: string): string {
  return `pk_test_${secretKey.slice('sk_test_'.length)}`;
}
