import { createHash, randomBytes } from 'node:crypto';
import { KassaError, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core';
import Stripe from 'stripe';
import { stripeError } from '../errors';
import { stripeCall } from '../intents';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import type { StripeRuntime } from '../stripe-state';
import { clearConnection, connectionAt, platformContext, saveConnection, type ConnectedAccount } from './connected-accounts';

/*
 * The organizer's side of Stripe Connect (reference/stripe-spec.md §9.2, §9.3): Standard accounts
 * through OAuth, Express and Custom accounts through Account Links, and disconnecting. Every route
 * acts on the signed-in organizer only; changing the connection is for admin teams (like every
 * settings change), and the others get "not found".
 */

export const CONNECT_PAGE = `${STRIPE_ROUTE_PREFIX}/control/connect`;
const STATE_COOKIE = 'kassa_stripe_connect_state';
const STATE_TTL_MS = 15 * 60_000;

type Req = PluginHttpRequest<Record<never, string>, Record<string, unknown> | undefined>;

function organizerOf(req: Req): string {
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  return req.organizerId;
}

function adminOf(req: Req): string {
  const organizerId = organizerOf(req);
  if (req.isAdmin !== true) throw new KassaError('NOT_FOUND', { entity: 'Page' });
  return organizerId;
}

const hash = (state: string): string => createHash('sha256').update(state).digest('hex');

function cookieValue(req: Req, name: string): string | null {
  const header = req.headers.cookie;
  const raw = Array.isArray(header) ? header.join('; ') : header ?? '';
  for (const part of raw.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

function stateCookie(rt: Pick<StripeRuntime, 'baseUrl'>, value: string, maxAgeSeconds: number): string {
  const secure = rt.baseUrl.startsWith('https:') ? '; Secure' : '';
  return `${STATE_COOKIE}=${encodeURIComponent(value)}; Path=${CONNECT_PAGE}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

const query1 = (req: Req, key: string): string | null => {
  const v = req.query[key];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
};

/** GET /plugins/stripe/control/connect — the connection, what Stripe still needs, and the actions. */
export async function handleConnectPage(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const { settings } = await platformContext(rt);
  const c = await connectionAt(rt, organizerId, null);
  const r = (c?.requirements ?? {}) as { currently_due?: string[]; past_due?: string[]; current_deadline?: number | null; errors?: { requirement: string; reason: string }[]; disabled_reason?: string | null };
  const notice = query1(req, 'notice');
  return {
    status: 200,
    title: 'Stripe Connect',
    view: {
      partial: 'stripe/connect',
      data: {
        isAdmin: req.isAdmin === true,
        isOperator: req.isOperator === true,
        payoutsUrl: `${CONNECT_PAGE}/payouts`,
        operatorUrl: `${CONNECT_PAGE}/operator`,
        connection: c ? {
          accountId: c.accountId, type: c.accountType, chargesEnabled: c.chargesEnabled, payoutsEnabled: c.payoutsEnabled, detailsSubmitted: c.detailsSubmitted,
          finished: c.detailsSubmitted && c.chargesEnabled,
          due: [...new Set([...(r.past_due ?? []), ...(r.currently_due ?? [])])],
          deadline: r.current_deadline ? new Date(r.current_deadline * 1000).toISOString() : null,
          errors: (r.errors ?? []).map((e) => ({ requirement: e.requirement, reason: e.reason })),
          disabledReason: r.disabled_reason ?? null,
        } : null,
        oauthAvailable: Boolean(settings.connectClientId),
        onboardType: settings.connectAccountType,
        notice: notice ? NOTICES[notice] ?? null : null,
        error: query1(req, 'error_description'),
        oauthUrl: `${CONNECT_PAGE}/oauth`,
        onboardUrl: `${CONNECT_PAGE}/onboard`,
        continueUrl: `${CONNECT_PAGE}/onboard/refresh`,
        disconnectUrl: `${CONNECT_PAGE}/disconnect`,
        customUrl: `${CONNECT_PAGE}/custom`,
      },
    },
  };
}

const NOTICES: Record<string, string> = {
  connected: 'Your Stripe account is connected.',
  created: 'Your Stripe account is created. Continue at Stripe to give the information it needs.',
  onboarded: 'Onboarding is finished: Stripe accepts payments for your account.',
  incomplete: 'Stripe still needs information before your account can take payments (see below).',
  denied: 'You declined the connection at Stripe. Nothing was connected.',
  disconnected: 'The Stripe account is disconnected. Stripe is no longer offered to buyers.',
};

/**
 * GET /plugins/stripe/control/connect/oauth — to Stripe's authorize page (Standard accounts), with
 * a fresh `state` that is stored (hashed) for this organizer and set in a cookie of this browser,
 * so only the browser that started can finish, once. A link, not a form: the site's CSP allows
 * forms to post to our origin only, and browsers apply that to the redirect after a post too. It
 * changes nothing but a single-use state; the connection is made on the verified return alone.
 */
export async function handleOAuthStart(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const organizerId = adminOf(req);
  const { settings, stripe } = await platformContext(rt);
  if (!settings.connectClientId) throw stripeError('STRIPE_NOT_CONFIGURED', { scope: 'Connect', detail: 'the operator has set no Connect client id (connectClientId)' });
  const state = randomBytes(24).toString('base64url');
  await rt.db.query(
    'INSERT INTO stripe_connect_state (state_hash, organizer_id, event_id, expires_at) VALUES ($1, $2, NULL, $3)',
    [hash(state), organizerId, new Date(rt.clock.now().getTime() + STATE_TTL_MS)],
  );
  const params = { response_type: 'code' as const, client_id: settings.connectClientId, scope: 'read_write' as const, state, redirect_uri: `${rt.baseUrl}${CONNECT_PAGE}/oauth/return` };
  // stripe-node builds https://connect.stripe.com/…; an emulator (apiBase, instance-only) serves the same path.
  const url = settings.apiBase ? `${settings.apiBase}/oauth/authorize?${new URLSearchParams(params).toString()}` : stripe.oauth.authorizeUrl(params);
  return { status: 303, headers: { location: url, 'set-cookie': stateCookie(rt, state, STATE_TTL_MS / 1000), 'cache-control': 'no-store' } };
}

/**
 * GET /plugins/stripe/control/connect/oauth/return — Stripe sends the browser back with a code (or
 * an error). The state must be ours, unused, unexpired, this organizer's and this browser's; only
 * then is the code exchanged with the platform key and the account stored. A refusal stores nothing.
 */
export async function handleOAuthReturn(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const organizerId = adminOf(req);
  const state = query1(req, 'state') ?? '';
  const cookie = cookieValue(req, STATE_COOKIE);
  if (!state || cookie !== state) throw stripeError('STRIPE_CONNECT_STATE_INVALID', { reason: 'it was not started in this browser' });
  const claimed = await rt.db.query(
    `UPDATE stripe_connect_state SET used_at = now() WHERE state_hash = $1 AND organizer_id = $2 AND used_at IS NULL AND expires_at > $3 RETURNING event_id`,
    [hash(state), organizerId, rt.clock.now()],
  );
  if (claimed.length === 0) throw stripeError('STRIPE_CONNECT_STATE_INVALID', { reason: 'the request is unknown, expired, already used, or belongs to another organizer' });
  const clear = { 'set-cookie': stateCookie(rt, '', 0), 'cache-control': 'no-store' };
  const error = query1(req, 'error');
  if (error) {
    const page = error === 'access_denied' ? `${CONNECT_PAGE}?notice=denied` : `${CONNECT_PAGE}?error_description=${encodeURIComponent(query1(req, 'error_description') ?? error)}`;
    return { status: 303, headers: { location: page, ...clear } };
  }
  const code = query1(req, 'code');
  if (!code) throw new KassaError('VALIDATION_FAILED', { field: 'code', detail: 'Stripe sent neither a code nor an error' });
  const { stripe } = await platformContext(rt);
  let accountId: string;
  try {
    const token = await stripe.oauth.token({ grant_type: 'authorization_code', code });
    accountId = token.stripe_user_id as string;
  } catch (err) {
    if (err instanceof Stripe.errors.StripeError) {
      // invalid_grant: the code expired (a few minutes) or was used already.
      const reason = err.type === 'StripeInvalidGrantError' ? 'the authorization code expired or was already used; please connect again' : err.message;
      return { status: 303, headers: { location: `${CONNECT_PAGE}?error_description=${encodeURIComponent(reason)}`, ...clear } };
    }
    throw err;
  }
  const account = await stripeCall('read the connected account', () => stripe.accounts.retrieve(accountId));
  await saveConnection(rt, { organizerId, eventId: null, account });
  return { status: 303, headers: { location: `${CONNECT_PAGE}?notice=connected`, ...clear } };
}

/** An account link to Stripe's hosted onboarding for the account (single use, short-lived). */
async function onboardingLink(rt: StripeRuntime, stripe: Stripe, accountId: string): Promise<string> {
  const link = await stripeCall('create the onboarding link', () => stripe.accountLinks.create({
    account: accountId, type: 'account_onboarding',
    refresh_url: `${rt.baseUrl}${CONNECT_PAGE}/onboard/refresh`, return_url: `${rt.baseUrl}${CONNECT_PAGE}/onboard/return`,
    collection_options: { fields: 'currently_due' },
  }));
  return link.url;
}

/** How many connections this organizer had: a new account after a disconnect gets a new key. */
async function pastConnections(rt: StripeRuntime, organizerId: string): Promise<number> {
  const [row] = await rt.db.query('SELECT count(*)::int AS n FROM stripe_connected_account WHERE organizer_id = $1 AND event_id IS NULL', [organizerId]);
  return Number(row?.n ?? 0);
}

/**
 * POST /plugins/stripe/control/connect/onboard — Express or Custom (the operator's choice): creates
 * the account once (keyed by the organizer, so a double click makes one account) and sends the
 * organizer on to a fresh onboarding link through the refresh route (a GET of our own: the CSP's
 * form-action would stop a post that redirects to Stripe).
 */
export async function handleOnboardStart(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const organizerId = adminOf(req);
  const { settings, stripe } = await platformContext(rt);
  const c: ConnectedAccount | null = await connectionAt(rt, organizerId, null);
  if (c && c.accountType === 'standard') throw stripeError('STRIPE_CONNECT_REFUSED', { reason: 'a Standard account is connected; disconnect it first' });
  if (!c) {
    const attempt = await pastConnections(rt, organizerId);
    const account = await stripeCall('create the connected account', () => stripe.accounts.create({
      type: settings.connectAccountType,
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
      metadata: { kassa_organizer_id: organizerId },
    }, { idempotencyKey: `kassa-connect-account-${organizerId}-${attempt}` }));
    await saveConnection(rt, { organizerId, eventId: null, account });
  }
  return { redirect: `${CONNECT_PAGE}?notice=created`, status: 303 };
}

/** GET …/onboard/refresh — a new onboarding link for the signed-in organizer (also Stripe's refresh_url, when a link expired or was used). */
export async function handleOnboardRefresh(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const organizerId = adminOf(req);
  const c = await connectionAt(rt, organizerId, null);
  if (!c) return { redirect: CONNECT_PAGE, status: 303 };
  const { stripe } = await platformContext(rt);
  return { redirect: await onboardingLink(rt, stripe, c.accountId), status: 303 };
}

/**
 * GET …/onboard/return — the organizer left Stripe's onboarding, finished or not: the account is
 * read again; it is finished only when details are submitted and charges are enabled.
 */
export async function handleOnboardReturn(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const organizerId = adminOf(req);
  const c = await connectionAt(rt, organizerId, null);
  if (!c) return { redirect: CONNECT_PAGE, status: 303 };
  const { stripe } = await platformContext(rt);
  const account = await stripeCall('read the connected account', () => stripe.accounts.retrieve(c.accountId));
  const saved = await saveConnection(rt, { organizerId, eventId: null, account });
  return { redirect: `${CONNECT_PAGE}?notice=${saved.detailsSubmitted && saved.chargesEnabled ? 'onboarded' : 'incomplete'}`, status: 303 };
}

/**
 * POST …/disconnect — a Standard account is deauthorized at Stripe (the platform loses access);
 * any account stops being offered at once. An account Stripe already disconnected is cleared too.
 */
export async function handleDisconnect(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const organizerId = adminOf(req);
  const c = await connectionAt(rt, organizerId, null);
  if (!c) return { redirect: CONNECT_PAGE, status: 303 };
  const { settings, stripe } = await platformContext(rt);
  if (c.accountType === 'standard' && settings.connectClientId) {
    try {
      await stripe.oauth.deauthorize({ client_id: settings.connectClientId, stripe_user_id: c.accountId });
    } catch (err) {
      // Already revoked by the organizer at Stripe: nothing left to end there.
      if (!(err instanceof Stripe.errors.StripeError)) throw err;
      rt.log.warn('Stripe Connect deauthorize refused; clearing the connection anyway', { account: c.accountId, detail: err.message });
    }
  }
  await clearConnection(rt, c);
  return { redirect: `${CONNECT_PAGE}?notice=disconnected`, status: 303 };
}
