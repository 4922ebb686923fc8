import { randomUUID } from 'node:crypto';
import {
  KassaError, eventSettings, globalSettings, organizerSettings,
  type PaymentWithOrder, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntime, type SettingsTarget,
} from '@kassa/core';
import { stripeError } from '../errors';
import { cancelIntent, captureIntent, isResourceMissing, stripeCall } from '../intents';
import type { StripePaymentInfo } from '../payment-info';
import { applyIntent } from '../reconcile';
import { STRIPE_NAMESPACE, forgetAccount, registerAccount, type AccountRuntime } from '../stripe-account-context';
import { STRIPE_API_VERSION, idempotencyKeys } from '../stripe-client';
import { STRIPE_ROUTE_PREFIX } from '../stripe-provider';
import type { StripeRuntime } from '../stripe-state';
import { forgetRetiredEndpoint, retiredEndpoints, storeEndpointSecret } from '../webhooks/endpoint-secrets';
import { eventAccount } from './checkout-routes';
import { SYNC_WALLET_DOMAINS_JOB, walletDomainsJobId } from '../wallets/wallet-domain-jobs';
import { connectPaymentContext } from '../connect/connect-context';

/** Path params of the capture and release actions. */
export type PaymentParams = { paymentId: string };
/** Body of the capture action (a form or JSON): the amount in our minor units, or nothing for all. */
export type CaptureBody = { amount?: string | number | null };
/** Body of the webhook-endpoint action. */
export type EndpointBody = { eventId?: unknown; scope?: unknown };

/** The events our webhook endpoints subscribe to (reference/stripe-spec.md §5.7, payments part). */
export const WEBHOOK_EVENTS = [
  'payment_intent.succeeded', 'payment_intent.payment_failed', 'payment_intent.canceled', 'payment_intent.processing',
  'payment_intent.requires_action', 'payment_intent.amount_capturable_updated',
  'charge.succeeded', 'charge.failed', 'charge.captured', 'charge.expired', 'charge.refunded', 'charge.refund.updated',
  'refund.created', 'refund.updated', 'refund.failed',
  'charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated',
  // Saved cards (docs/payment-plans.md)
  'setup_intent.succeeded', 'setup_intent.setup_failed', 'setup_intent.canceled', 'payment_method.detached', 'payment_method.automatically_updated', 'payment_method.updated',
] as const;

/** A payment of the signed-in organizer; any other is "not found" (no probing of foreign ids). */
async function ownPayment(req: PluginHttpRequest<PaymentParams>, rt: StripeRuntime): Promise<PaymentWithOrder> {
  const id = req.params.paymentId;
  const found = await rt.payments.get(id);
  if (!found || !req.organizerId || found.order.organizerId !== req.organizerId || found.payment.provider !== 'stripe') {
    throw new KassaError('NOT_FOUND', { entity: `Payment ${id}` });
  }
  return found;
}

function amountFrom(body: CaptureBody | undefined, currency: string): { amount: number; currency: string } | undefined {
  const raw = body?.amount;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new KassaError('VALIDATION_FAILED', { detail: 'amount must be a positive whole number of minor units' });
  return { amount: n, currency };
}

/** The intent of a payment, for capture and release. */
function intentOf(p: PaymentWithOrder): string {
  const intentId = (p.payment.info as StripePaymentInfo).intentId;
  if (!intentId) throw stripeError('STRIPE_CAPTURE_NOT_ALLOWED', { payment: p.payment.id, reason: 'no PaymentIntent belongs to this payment' });
  return intentId;
}

/** A form post from the order page goes back to it; an API-style JSON call gets JSON. */
function answer(req: PluginHttpRequest<PaymentParams, unknown>, order: { id: string }, body: Record<string, unknown>): PluginHttpResponse {
  const type = String(req.headers['content-type'] ?? '');
  return type.startsWith('application/x-www-form-urlencoded') ? { redirect: `/control/orders/${order.id}` } : { status: 200, body };
}

/** POST /plugins/stripe/control/payments/:paymentId/capture — body { amount? } in our minor units. */
export async function handleCapture(req: PluginHttpRequest<PaymentParams, CaptureBody>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const p = await ownPayment(req, rt);
  const amount = amountFrom(req.body, p.payment.currency);
  const { stripe, account } = (await connectPaymentContext(rt, p.event, p.payment.info as StripePaymentInfo)) ?? await eventAccount(rt, p.event);
  const pi = await captureIntent(stripe, p.payment, intentOf(p), amount);
  const outcome = await applyIntent(rt, p.payment.id, pi, account.accountId);
  return answer(req, p.order, { status: pi.status, outcome });
}

/** POST /plugins/stripe/control/payments/:paymentId/release — cancels the authorization. */
export async function handleRelease(req: PluginHttpRequest<PaymentParams>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const p = await ownPayment(req, rt);
  const { stripe, account } = (await connectPaymentContext(rt, p.event, p.payment.info as StripePaymentInfo)) ?? await eventAccount(rt, p.event);
  const pi = await cancelIntent(stripe, p.payment, intentOf(p), 'requested_by_customer');
  const outcome = await applyIntent(rt, p.payment.id, pi, account.accountId);
  return answer(req, p.order, { status: pi.status, outcome });
}

/**
 * The settings level a control request acts on: body.eventId (an event of the signed-in organizer;
 * any other is "not found"), else the signed-in organizer. The instance-wide (global) level is for
 * the host alone: every HTTP control request carries the signed-in organizer (the server answers
 * AUTH_REQUIRED without one), and Kassa has no instance-admin role, so a request naming
 * `scope: 'global'` with an organizer is refused. Only a call without one (the host invoking this
 * handler itself at start, bootstrap.ts) reaches the global level.
 */
async function targetFrom(req: PluginHttpRequest<Record<never, string>, EndpointBody>, rt: StripeRuntime): Promise<SettingsTarget> {
  const body: EndpointBody = req.body ?? {};
  const scope = body.scope === undefined || body.scope === '' ? undefined : body.scope;
  if (scope !== undefined && scope !== 'organizer' && scope !== 'event' && scope !== 'global') {
    throw new KassaError('VALIDATION_FAILED', { field: 'scope', detail: 'scope must be "organizer" or "event" (with eventId)' });
  }
  if (scope === 'global') {
    if (req.organizerId !== undefined) {
      throw stripeError('STRIPE_SCOPE_NOT_ALLOWED', { scope: 'instance-wide (global)', reason: 'only the host sets up the global webhook endpoint; act on your organizer or one of its events' });
    }
    return globalSettings;
  }
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  // Creating an endpoint writes the organizer's Stripe settings, which only admin teams may change;
  // like every other admin page, the action does not exist for the others.
  if (req.isAdmin !== true) throw new KassaError('NOT_FOUND', { entity: 'Page' });
  if (typeof body.eventId === 'string' && body.eventId) {
    const event = await rt.payments.event(body.eventId);
    if (!event || event.organizerId !== req.organizerId) throw new KassaError('NOT_FOUND', { entity: `Event ${body.eventId}` });
    return eventSettings(event);
  }
  if (scope === 'event') throw new KassaError('VALIDATION_FAILED', { field: 'eventId', detail: 'eventId is required for scope "event"' });
  return organizerSettings(req.organizerId);
}

/**
 * The settings key whose level decides which account an endpoint is created for; the host's
 * settings page reads it from the route's options to offer the button only where that key is set
 * below the instance (the same check as `refuseInstanceKeys`).
 */
export const ENDPOINT_KEYS_SETTING = 'secretKey';

/**
 * An organizer or event whose keys are inherited from the instance (global level) creates no
 * endpoint: it would be one of the instance's account, whose events the operator's endpoint already
 * delivers, and each level could keep five there, so one organizer with several events would fill
 * the account's endpoint slots at Stripe (16 in test mode) and leave the operator none. Checked
 * before any call to Stripe, so nothing is created or stored. Keys set at the organizer's level
 * serve its events: their endpoints are of the organizer's own account.
 */
async function refuseInstanceKeys(rt: StripeRuntime, target: SettingsTarget): Promise<void> {
  if (target.scope === 'global') return;
  const display = await rt.settings.getForDisplay(target, STRIPE_NAMESPACE);
  if (display.sources[ENDPOINT_KEYS_SETTING] === 'global') {
    throw stripeError('STRIPE_INSTANCE_KEYS_IN_USE', { scope: target.scope === 'event' ? 'event\'s' : 'organizer\'s' });
  }
}

/**
 * POST /plugins/stripe/control/webhook-endpoint — creates our endpoint at Stripe with the pinned
 * API version (so payloads match the SDK's types) and stores its signing secret on the endpoint's
 * row, next to the account's secrets already active, so a rotation never drops an event. Body: { eventId? } (an event of the
 * signed-in organizer; default: the organizer). See targetFrom for the global level.
 */
export async function handleCreateWebhookEndpoint(req: PluginHttpRequest<Record<never, string>, EndpointBody>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const target = await targetFrom(req, rt);
  await refuseInstanceKeys(rt, target);
  const created = await createWebhookEndpoint(rt, target);
  // Keys just saved and now in use: their account's wallet domains are registered right away too.
  await rt.enqueue(SYNC_WALLET_DOMAINS_JOB, { accountId: created.account }, { jobId: walletDomainsJobId(created.account) });
  return { status: 201, body: created };
}

/**
 * Creates a webhook endpoint at Stripe for the account of these settings and stores its signing
 * secret on the endpoint's own row, for that account only. For hosts (the global endpoint at
 * start) and the control actions; it does no authorization of its own. Each call is a new endpoint, so its idempotency key is random (only
 * stripe-node's own retries of this call share it) unless the caller passes a nonce: the operator's
 * form passes the id it was drawn with, so a double submit gets Stripe's first answer back.
 */
export async function createWebhookEndpoint(
  rt: AccountRuntime & Pick<PluginRuntime, 'baseUrl'>, target: SettingsTarget, nonce: string = randomUUID(),
): Promise<{ endpointId: string; url: string; apiVersion: string; account: string }> {
  const ctx = await registerAccount(rt, target);
  const url = `${rt.baseUrl}${STRIPE_ROUTE_PREFIX}/webhook/${ctx.account.accountId}`;
  const endpoint = await stripeCall('create the webhook endpoint', () => ctx.stripe.webhookEndpoints.create({
    url, enabled_events: [...WEBHOOK_EVENTS], api_version: STRIPE_API_VERSION as never, description: 'Kassa',
  }, { idempotencyKey: idempotencyKeys.webhookEndpoint(ctx.account.accountId, nonce) }));
  await rt.db.query('UPDATE stripe_account SET webhook_endpoint_id = $2 WHERE account_id = $1', [ctx.account.accountId, endpoint.id]);
  // The secret belongs to this endpoint and verifies only its account's events.
  await storeEndpointSecret(rt, { endpointId: endpoint.id, accountId: ctx.account.accountId, target, secret: endpoint.secret as string });
  forgetAccount(rt.state, ctx.account.accountId);
  // Endpoints whose secrets this rotation retired are deleted at Stripe, after the new one is stored
  // (never inside the transaction); one Stripe cannot delete now is tried again at the next rotation.
  for (const retired of await retiredEndpoints(rt, ctx.account.accountId, target)) {
    try {
      await stripeCall('delete a retired webhook endpoint', () => ctx.stripe.webhookEndpoints.del(retired));
    } catch (err) {
      if (!isResourceMissing(err)) break;
    }
    await forgetRetiredEndpoint(rt, retired);
  }
  return { endpointId: endpoint.id, url, apiVersion: STRIPE_API_VERSION, account: ctx.account.accountId };
}
