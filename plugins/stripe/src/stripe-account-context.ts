import { eventSettings, globalSettings, organizerSettings, type EventRecord, type PluginRuntime, type SettingsTarget } from '@kassa/core';
import type Stripe from 'stripe';
import { accountFrom, accountSelect, type StripeAccount } from './db/stripe-rows';
import { stripeError } from './errors';
import { stripeCall } from './intents';
import { settingsProblems, stripeSettingsSchema, type StripeSettings } from './settings-schema';
import { createStripeClient } from './stripe-client';
import type { StripeState } from './stripe-state';
import { forgetWebhookSecrets } from './webhooks/endpoint-secrets';

export { webhookSecretsFor } from './webhooks/endpoint-secrets';

/** The settings namespace core gives the "stripe" provider. */
export const STRIPE_NAMESPACE = 'payment.stripe';

/** Fills the schema defaults into resolved settings and drops core's framework keys (`_enabled`, fees…). */
export function stripeSettingsFrom(resolved: object): StripeSettings {
  const values = resolved as Readonly<Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(stripeSettingsSchema.properties as Record<string, { default?: unknown }>)) {
    if (values[key] !== undefined) out[key] = values[key];
    else if (prop.default !== undefined) out[key] = structuredClone(prop.default);
  }
  return out as Partial<StripeSettings> as StripeSettings;
}

/** A stripe-node client for these settings; STRIPE_NOT_CONFIGURED names what is missing. */
export function clientFor(settings: StripeSettings, scope: string): Stripe {
  if (!settings.secretKey) throw stripeError('STRIPE_NOT_CONFIGURED', { scope, detail: 'no secret key is set' });
  const problems = settingsProblems(settings);
  if (problems.length > 0) throw stripeError('STRIPE_NOT_CONFIGURED', { scope, detail: problems.join('; ') });
  return createStripeClient({
    secretKey: settings.secretKey,
    ...(settings.apiBase ? { apiBase: settings.apiBase } : {}),
    maxNetworkRetries: settings.maxNetworkRetries,
    timeoutMs: settings.timeoutMs,
  });
}

export function targetOf(row: Pick<StripeAccount, 'scope' | 'organizerId' | 'eventId'>): SettingsTarget {
  if (row.scope === 'event') return { scope: 'event', organizerId: row.organizerId as string, eventId: row.eventId as string };
  if (row.scope === 'organizer') return organizerSettings(row.organizerId as string);
  return globalSettings;
}

/** Everything a route or job needs to talk to one Stripe account. */
export interface AccountContext {
  readonly account: StripeAccount;
  readonly settings: StripeSettings;
  readonly stripe: Stripe;
}

/** Forgets cached secrets and settings of an account (after the control panel stored a new endpoint). */
export function forgetAccount(state: StripeState, accountId: string): void {
  forgetWebhookSecrets(state, accountId);
  state.contexts.delete(accountId);
}

const CONTEXT_CACHE_MS = 5_000;

/** What account lookups need of the runtime. */
export type AccountRuntime = Pick<PluginRuntime<StripeState>, 'db' | 'settings' | 'state'>;

/** A registered account's row, or null. */
export async function findAccount(rt: Pick<AccountRuntime, 'db'>, accountId: string): Promise<StripeAccount | null> {
  const [row] = await rt.db.query(`${accountSelect} WHERE account_id = $1`, [accountId]);
  return row ? accountFrom(row) : null;
}

/**
 * Loads a registered account with its settings and a client; STRIPE_ACCOUNT_UNKNOWN otherwise.
 * Kept for a few seconds per host: every processed event needs it, and decrypting the settings
 * and building a client per event showed in the torture test.
 */
export async function accountContext(rt: AccountRuntime, accountId: string): Promise<AccountContext> {
  const cache = rt.state.contexts;
  const hit = cache.get(accountId);
  if (hit && hit.until > Date.now()) return hit.ctx;
  const account = await findAccount(rt, accountId);
  if (!account) throw stripeError('STRIPE_ACCOUNT_UNKNOWN', { account: accountId });
  const settings = stripeSettingsFrom(await rt.settings.resolve(targetOf(account), STRIPE_NAMESPACE));
  const ctx = { account, settings, stripe: clientFor(settings, `account ${accountId}`) };
  cache.set(accountId, { ctx, until: Date.now() + CONTEXT_CACHE_MS });
  return ctx;
}

/**
 * Makes sure the account behind these settings is registered, at the given level. Asks Stripe
 * which account the key belongs to (GET /v1/account) only when no row exists yet for that level.
 */
export async function registerAccount(rt: Pick<AccountRuntime, 'db' | 'settings'>, target: SettingsTarget): Promise<AccountContext> {
  const settings = stripeSettingsFrom(await rt.settings.resolve(target, STRIPE_NAMESPACE));
  const stripe = clientFor(settings, target.scope);
  // Through stripeCall: a key Stripe refuses, or a Stripe that cannot be reached, is STRIPE_API_ERROR
  // (502, naming the call), not an unexplained 500 to the organizer who pressed the button.
  const acct = await stripeCall('identify the account of the keys', () => stripe.accounts.retrieveCurrent());
  await rt.db.query(
    `INSERT INTO stripe_account (account_id, scope, organizer_id, event_id, livemode) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [acct.id, target.scope, target.scope === 'global' ? null : target.organizerId, target.scope === 'event' ? target.eventId : null, /^(sk|rk)_live_/.test(settings.secretKey ?? '')],
  );
  const account = await findAccount(rt, acct.id);
  if (!account) throw stripeError('STRIPE_ACCOUNT_UNKNOWN', { account: acct.id });
  return { account, settings, stripe };
}

/** The settings level of an event, for registering its account from the checkout. */
export function eventTarget(event: Pick<EventRecord, 'id' | 'organizerId'>): SettingsTarget {
  return eventSettings(event);
}
