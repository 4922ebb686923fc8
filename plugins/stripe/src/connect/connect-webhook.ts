import { randomUUID } from 'node:crypto';
import { KassaError, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core';
import Stripe from 'stripe';
import type { StripeWebhookInbox } from '../db/stripe-rows';
import { stripeError } from '../errors';
import { stripeCall } from '../intents';
import type { AccountContext } from '../stripe-account-context';
import { STRIPE_API_VERSION } from '../stripe-client';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import type { StripeRuntime } from '../stripe-state';
import { verifyWebhook } from '../webhook-signature';
import { WEBHOOK_EVENTS } from '../routes/control-routes';
import { enqueueStored } from '../webhooks/event-batch';
import { eventProblem, storeEvent } from '../webhooks/webhook-route';
import { platformClient } from './connect-charge';
import { clearConnection, connectionsOfAccount, platformContext, saveConnection } from './connected-accounts';
import { applyPayoutEvent } from './payouts/payout-events';
import { emailNewRequirements } from './requirements-email';

/** What the platform's Connect endpoint subscribes to: the payment events (direct charges) and the accounts' own. */
export const CONNECT_WEBHOOK_EVENTS = [
  ...WEBHOOK_EVENTS,
  'account.updated', 'capability.updated', 'account.application.deauthorized', 'account.external_account.created', 'account.external_account.updated',
  'account.external_account.deleted', 'payout.created', 'payout.updated', 'payout.paid', 'payout.failed', 'payout.canceled',
] as const;

export const CONNECT_WEBHOOK_PATH = '/webhook-connect';

/** The Connect signing secrets: the operator's (settings) and those of the endpoints Kassa created. */
export async function connectSecrets(rt: Pick<StripeRuntime, 'db' | 'settings'>): Promise<string[]> {
  const { settings } = await platformContext(rt).catch(() => ({ settings: null }));
  const rows = await rt.db.query<{ endpoint_id: string; secret: unknown }>('SELECT endpoint_id, secret FROM stripe_connect_endpoint ORDER BY created_at DESC');
  const own = rows.map((r) => rt.settings.openSecret(`stripe-connect-endpoint:${r.endpoint_id}`, r.secret) as string);
  return [...own, ...(settings?.connectWebhookSecrets ?? [])];
}

/**
 * Creates the platform's Connect endpoint at Stripe (connect=true, the pinned API version, like the
 * account endpoints) and keeps its secret for Connect events only. For the host, operator tooling and
 * the operator's page (whose form's request id makes a double click create one endpoint): it does no
 * authorization of its own.
 */
export async function createConnectWebhookEndpoint(
  rt: Pick<StripeRuntime, 'db' | 'settings' | 'baseUrl'>, opts: { requestId?: string } = {},
): Promise<{ endpointId: string; url: string }> {
  const { stripe } = await platformContext(rt);
  const url = `${rt.baseUrl}${STRIPE_ROUTE_PREFIX}${CONNECT_WEBHOOK_PATH}`;
  const endpoint = await stripeCall('create the Connect webhook endpoint', () => stripe.webhookEndpoints.create({
    url, connect: true, enabled_events: [...CONNECT_WEBHOOK_EVENTS], api_version: STRIPE_API_VERSION as never, description: 'Kassa (Connect)',
  }, { idempotencyKey: `kassa-connect-webhook-endpoint-${opts.requestId ?? randomUUID()}` }));
  // A replayed request (the operator's double click) answers the same endpoint: one row.
  await rt.db.query('INSERT INTO stripe_connect_endpoint (endpoint_id, secret) VALUES ($1, $2) ON CONFLICT (endpoint_id) DO NOTHING', [
    endpoint.id, JSON.stringify(rt.settings.sealSecret(`stripe-connect-endpoint:${endpoint.id}`, endpoint.secret)),
  ]);
  return { endpointId: endpoint.id, url };
}

/**
 * POST /plugins/stripe/webhook-connect — events of connected accounts. Verified with the Connect
 * secrets only (never an account endpoint's), refused without `account` (an event of the platform
 * itself has no business here), stored in the inbox under the connected account and processed
 * like every other event (one job for the rows stored together, re-fetch, per-payment lock).
 */
export async function handleConnectWebhook(req: PluginHttpRequest, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const secrets = await connectSecrets(rt);
  const header = req.headers['stripe-signature'];
  const verified = verifyWebhook(req.rawBody, Array.isArray(header) ? header[0] : header, secrets);
  const refuse = (reason: string) => {
    const err = stripeError('STRIPE_WEBHOOK_REFUSED', { account: 'Connect', reason });
    return { status: err.status, body: { error: { code: err.code, message: err.message } } };
  };
  if (!verified.ok) return refuse(verified.reason);
  const malformed = eventProblem(verified.event);
  if (malformed) return refuse(malformed);
  const account = (verified.event as { account?: unknown }).account;
  if (typeof account !== 'string' || !/^acct_[A-Za-z0-9]+$/.test(account)) return refuse('a Connect event names its connected account (`account`)');
  // As for an account's webhooks: one job for the rows stored together, not awaited by the answer.
  const inboxId = await storeEvent(rt, account, verified.event, 'webhook', req.rawBody.toString('utf8'), enqueueStored(rt));
  if (inboxId === null) return { status: 200, body: { received: true, duplicate: true } };
  return { status: 200, body: { received: true } };
}

/**
 * The context for re-fetching an event's objects when the account is a connected one (ever
 * connected here): the platform's key acting on the account. Null for an account of our own.
 */
export async function connectedAccountContext(rt: Pick<StripeRuntime, 'db' | 'settings'>, accountId: string): Promise<AccountContext | null> {
  const [row] = await rt.db.query('SELECT organizer_id, event_id FROM stripe_connected_account WHERE account_id = $1 ORDER BY connected_at DESC LIMIT 1', [accountId]);
  if (!row) return null;
  const { settings } = await platformContext(rt);
  return {
    account: {
      accountId, scope: row.event_id ? 'event' : 'organizer', organizerId: String(row.organizer_id), eventId: (row.event_id as string | null) ?? null,
      livemode: false, webhookEndpointId: null, lastEventId: null, lastEventCreated: null, createdAt: new Date(0),
    },
    settings,
    stripe: platformClient(settings, accountId),
  };
}

/**
 * The account events of a connected account: `account.updated` and `capability.updated` refresh
 * Kassa's copy (re-fetched, so the order of delivery does not matter; checkout offers Stripe only
 * while charges are enabled); `account.application.deauthorized` clears the connection without
 * asking Stripe (calls for the account already fail with account_invalid). Null: not such an event.
 */
export async function applyConnectAccountEvent(
  rt: Pick<StripeRuntime, 'db' | 'settings' | 'payments' | 'baseUrl'>, row: Pick<StripeWebhookInbox, 'type' | 'account' | 'objectId'>,
): Promise<string | null> {
  const payout = await applyPayoutEvent(rt, row);
  if (payout) return payout;
  if (row.type === 'account.application.deauthorized') {
    const live = await connectionsOfAccount(rt, row.account);
    for (const c of live) await clearConnection(rt, c);
    return `deauthorized: ${live.length} connection(s) cleared`;
  }
  if (row.type === 'account.updated' || row.type === 'capability.updated' || row.type.startsWith('account.external_account.')) {
    const live = await connectionsOfAccount(rt, row.account);
    if (live.length === 0) return `ignored: ${row.account} is not connected`;
    const { stripe } = await platformContext(rt);
    let account: Stripe.Account;
    try {
      account = await stripeCall('read the connected account', () => stripe.accounts.retrieve(row.account));
    } catch (err) {
      // Access already revoked (the deauthorization event may come later, or never reach us).
      if (!isAccountInvalid(err)) throw err;
      for (const c of live) await clearConnection(rt, c);
      return `access revoked: ${live.length} connection(s) cleared`;
    }
    let emails = 0;
    for (const c of live) {
      // Before the copy is saved (it is what "before" is read from): the email is keyed by the
      // requirement set, so a retry after a failed save writes it once all the same.
      if (row.type === 'account.updated') emails += await emailNewRequirements(rt, c, account);
      await saveConnection(rt, { organizerId: c.organizerId, eventId: c.eventId, account });
    }
    return `account refreshed: charges ${account.charges_enabled ? 'enabled' : 'disabled'}${emails > 0 ? `; requirements email to ${emails}` : ''}`;
  }
  return null;
}

/** Stripe refuses the platform's calls for an account that revoked its access (401/403 account_invalid). */
export function isAccountInvalid(err: unknown): boolean {
  const e = err instanceof KassaError && err.cause ? err.cause : err;
  return e instanceof Stripe.errors.StripeError && (e.code === 'account_invalid' || e.type === 'StripePermissionError');
}
