import { IdGenerator, Random } from './ids';
import type { ResolvedOptions } from './options';
import { Scheduler } from './scheduler';
import { AccountState, keyDigest, publishableKeyFor } from './store';
import type { Account, Requirements, StripeEvent, WebhookEndpoint } from './types';
import { WebhookDelivery } from './webhooks/delivery';
import { RateLimiter } from './rate-limit';
import { Stats } from './stats';
import { applyChaos } from './chaos';
import { defaultWalletConfig, type WalletConfig } from './resources/wallets';

export interface Fault {
  id: string;
  /** What to do instead of (or after) executing the request. */
  kind: 'error_500' | 'rate_limit_429' | 'lock_timeout_429' | 'conflict_409' | 'timeout' | 'timeout_after_commit' | 'drop_after_commit' | 'slow';
  /** Set on the faults of a chaos run (POST /_emulator/chaos), so they can be replaced together. */
  tag?: string;
  /** For 'slow': how long the request holds its idempotency key before executing. */
  delayMs?: number;
  /** Probability 0..1 that a matching request is hit (seeded, so runs repeat). */
  rate: number;
  /** How many more hits before the fault retires itself (null = unlimited). */
  remaining: number | null;
  /** Only requests whose path starts with this. */
  path?: string;
  method?: string;
  /** Value of `Stripe-Should-Retry` on the injected response (absent when undefined). */
  shouldRetry?: boolean;
}

/** The request currently executing; events created during it record its id and key. */
export interface RequestInfo {
  id: string;
  idempotencyKey: string | null;
  apiVersion: string;
}

export const emptyRequirements = (): Requirements => ({
  alternatives: [],
  current_deadline: null,
  currently_due: [],
  disabled_reason: null,
  errors: [],
  eventually_due: [],
  past_due: [],
  pending_verification: [],
});

/**
 * The event's `data`: the object as it is now. Frozen as JSON and parsed only when read
 * (listing, delivery), which is much cheaper than structuredClone on the hot path.
 */
function snapshot(object: unknown, previous?: Record<string, unknown>): StripeEvent['data'] {
  const kind = (object as { object?: string }).object;
  let data: StripeEvent['data'];
  if (kind !== undefined && SHALLOW_SNAPSHOT.has(kind)) {
    data = { object: { ...(object as object) } };
  } else {
    const json = JSON.stringify(object);
    let parsed: unknown;
    data = {} as StripeEvent['data'];
    Object.defineProperty(data, 'object', { enumerable: true, get: () => (parsed ??= JSON.parse(json)) });
  }
  if (previous) data.previous_attributes = previous;
  return data;
}

/**
 * Objects whose nested values are never mutated in place (the code replaces them instead),
 * so a top-level copy is a faithful snapshot. These are the hot path of every payment.
 */
const SHALLOW_SNAPSHOT = new Set(['payment_intent', 'charge', 'refund']);

/** All emulator state plus the services handlers share (ids, events, scheduler, delivery). */
export class Emulator {
  readonly random: Random;
  readonly ids: IdGenerator;
  readonly scheduler: Scheduler;
  readonly rateLimiter: RateLimiter;
  readonly stats = new Stats();
  readonly delivery: WebhookDelivery;
  readonly accounts = new Map<string, AccountState>();
  /** Secret keys, publishable keys and OAuth access tokens → account id. */
  readonly keys = new Map<string, string>();
  /** Global index for pages reached without an API key (3DS challenge, onboarding). */
  readonly owners = new Map<string, string>();
  readonly oauthCodes = new Map<string, { clientId: string; accountId: string; scope: string; expiresAt: number; used: boolean }>();
  readonly refreshTokens = new Map<string, string>();
  readonly accountLinks = new Map<string, { account: string; type: string; refresh_url: string; return_url: string; expiresAt: number; used: boolean }>();
  /** Per-domain Apple Pay verification overrides set through the controls. */
  readonly applePayVerification = new Map<string, boolean>();
  /** Test wallet set-up per account id ('' = every account), from POST /_emulator/wallet_config. */
  readonly walletConfigs = new Map<string, WalletConfig>();
  readonly defaultWalletConfig: WalletConfig;
  faults: Fault[] = [];
  /** Added to the wall clock by POST /_emulator/clock/advance (time travel for expiries). */
  clockOffsetMs = 0;
  baseUrl = '';
  current: RequestInfo | null = null;
  readonly errors: string[] = [];

  constructor(readonly options: ResolvedOptions) {
    this.random = new Random(options.seed);
    this.ids = new IdGenerator(this.random);
    this.scheduler = new Scheduler((label, err) => this.errors.push(`${label}: ${(err as Error).stack ?? String(err)}`));
    this.delivery = new WebhookDelivery({ ...options.webhooks }, this.random, () => this.nowMs());
    this.rateLimiter = new RateLimiter(options.rateLimit);
    if (Object.keys(options.chaos).length) applyChaos(this, options.chaos);
    const base = defaultWalletConfig();
    this.defaultWalletConfig = { ...base, ...options.wallet, payer: { ...base.payer, ...options.wallet.payer } };
  }

  /** The emulator's clock: wall time (or the injected `now`) plus any advance. */
  nowMs(): number {
    return this.options.now() + this.clockOffsetMs;
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  reset(): void {
    this.clockOffsetMs = 0;
    this.scheduler.clear();
    this.delivery.reset();
    this.accounts.clear();
    this.keys.clear();
    this.owners.clear();
    this.oauthCodes.clear();
    this.refreshTokens.clear();
    this.accountLinks.clear();
    this.applePayVerification.clear();
    this.walletConfigs.clear();
    this.rateLimiter.reset();
    this.stats.reset();
    this.faults = [];
    // The random source is not reseeded: ids minted after a reset must not collide with ids a client stored before it.
    this.errors.length = 0;
  }

  /** The platform account of an sk_test_/rk_test_ key, created on first use (each key is its own account). */
  platformForKey(secretKey: string): AccountState {
    const known = this.keys.get(secretKey);
    if (known) return this.accounts.get(known) as AccountState;
    const digest = keyDigest(secretKey);
    const id = `acct_1${digest.slice(0, 15)}`;
    const account = this.newAccountObject(id, 'standard', 'US', null);
    Object.assign(account, { charges_enabled: true, payouts_enabled: true, details_submitted: true });
    account.capabilities = { card_payments: 'active', transfers: 'active' };
    const pk = publishableKeyFor(secretKey.replace(/^rk_test_/, 'sk_test_'));
    const state = new AccountState(id, account, null, pk, `ca_${digest.slice(16, 40)}`);
    this.accounts.set(id, state);
    this.keys.set(secretKey, id);
    this.keys.set(pk, id);
    return state;
  }

  newAccountObject(id: string, type: Account['type'], country: string, email: string | null): Account {
    return {
      id,
      object: 'account',
      created: this.nowSeconds(),
      livemode: false,
      type,
      business_type: null,
      business_profile: {},
      capabilities: {},
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
      country,
      default_currency: country === 'US' ? 'usd' : 'eur',
      email,
      metadata: {},
      requirements: emptyRequirements(),
      future_requirements: emptyRequirements(),
      settings: {
        payouts: { schedule: { interval: 'daily', delay_days: 2 } },
        card_payments: { statement_descriptor_prefix: this.options.statementDescriptorPrefix },
      },
      tos_acceptance: {},
    };
  }

  /** Registers a connected account under its platform. */
  addConnected(platform: AccountState, account: Account): AccountState {
    const state = new AccountState(account.id, account, platform.id, `pk_test_connected_${account.id}`, '');
    this.accounts.set(account.id, state);
    return state;
  }

  account(id: string): AccountState | undefined {
    return this.accounts.get(id);
  }

  platformOf(state: AccountState): AccountState {
    return state.platformId ? (this.accounts.get(state.platformId) ?? state) : state;
  }

  /** Remembers which account owns a PI/SI/account-link token, for key-less browser pages. */
  own(id: string, state: AccountState): void {
    this.owners.set(id, state.id);
  }

  ownerOf(id: string): AccountState | undefined {
    const a = this.owners.get(id);
    return a ? this.accounts.get(a) : undefined;
  }

  /**
   * Records an event (§5.3) with a snapshot of `object` taken now, and queues it for every
   * endpoint that wants it: the account's own endpoints, plus the platform's Connect
   * endpoints (with `account` set) when it happened on a connected account.
   */
  emit(state: AccountState, type: string, object: unknown, previous?: Record<string, unknown>, apiVersion?: string): StripeEvent {
    const event: StripeEvent = {
      id: this.ids.id('evt_'),
      object: 'event',
      api_version: apiVersion ?? this.current?.apiVersion ?? this.options.defaultApiVersion,
      created: this.nowSeconds(),
      data: snapshot(object, previous),
      livemode: false,
      pending_webhooks: 0,
      request: { id: this.current?.id ?? null, idempotency_key: this.current?.idempotencyKey ?? null },
      type,
    };
    if (state.platformId) event.account = state.id;
    state.events.push(event);
    const targets: { endpoint: WebhookEndpoint; owner: AccountState }[] = [];
    for (const endpoint of state.endpoints()) if (!endpoint.connect) targets.push({ endpoint, owner: state });
    if (state.platformId) {
      const platform = this.accounts.get(state.platformId);
      if (platform) for (const endpoint of platform.endpoints()) if (endpoint.connect) targets.push({ endpoint, owner: platform });
    }
    for (const { endpoint, owner } of targets) {
      if (endpoint.status !== 'enabled') continue;
      if (!endpoint.enabled_events.includes('*') && !endpoint.enabled_events.includes(type)) continue;
      event.pending_webhooks++;
      this.delivery.enqueue(event, endpoint, () => this.activeSecrets(owner, endpoint));
    }
    return event;
  }

  /** The endpoint's secret plus any rolled secrets still inside their grace period. */
  activeSecrets(owner: AccountState, endpoint: WebhookEndpoint): string[] {
    const now = this.nowMs();
    const rolled = (owner.rolledSecrets.get(endpoint.id) ?? []).filter((r) => r.expiresAt > now).map((r) => r.secret);
    return [endpoint.secret as string, ...rolled];
  }

  close(): void {
    this.scheduler.clear();
    this.delivery.close();
  }
}
