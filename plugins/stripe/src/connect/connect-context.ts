import { eventSettings, type EventRecord } from '@kassa/core';
import type { StripeAccount } from '../db/stripe-rows';
import { createIntent } from '../intents';
import type { StripePaymentInfo } from '../payment-info';
import { STRIPE_NAMESPACE, stripeSettingsFrom, type AccountContext } from '../stripe-account-context';
import type { StripeRuntime } from '../stripe-state';
import type Stripe from 'stripe';
import { connectChargeFor, connectClientFor, connectInfo, connectIntentExtras, platformClient, type ConnectPaymentInfo } from './connect-charge';

/** The account a Connect charge lives on, in the shape the checkout routes and reconcile use. */
function chargeAccountRow(c: ConnectPaymentInfo, event: Pick<EventRecord, 'id' | 'organizerId'>): StripeAccount {
  return {
    accountId: c.chargeAccount, scope: 'event', organizerId: event.organizerId, eventId: event.id, livemode: false,
    webhookEndpointId: null, lastEventId: null, lastEventCreated: null, createdAt: new Date(0),
  };
}

/**
 * The context of a payment charged through Connect: the platform's client (acting on the connected
 * account for direct charges), the settings with the platform's publishable key, and the account the
 * charge lives on. Null for a payment made without Connect (the routes use the event's own account).
 */
export async function connectPaymentContext(rt: Pick<StripeRuntime, 'settings'>, event: EventRecord, info: StripePaymentInfo): Promise<(AccountContext & { stripeAccount: string | null }) | null> {
  if (!info.connect) return null;
  const resolved = stripeSettingsFrom(await rt.settings.resolve(eventSettings(event), STRIPE_NAMESPACE));
  const stripe = connectClientFor(resolved, info) as Stripe;
  const settings = { ...resolved, ...(resolved.platformPublishableKey ? { publishableKey: resolved.platformPublishableKey } : {}) };
  return { account: chargeAccountRow(info.connect, event), settings, stripe, stripeAccount: info.connect.model === 'direct' ? info.connect.account : null };
}

/**
 * Creates the intent of a connected event's payment when executePayment could not (the same
 * idempotency key, so never two intents); null when the event has no connection.
 */
export async function createConnectIntent(
  rt: Pick<StripeRuntime, 'settings'>, input: { payment: { id: string; amount: number; currency: string }; order: { id: string; code: string }; event: EventRecord },
): Promise<{ pi: Stripe.PaymentIntent; connect: ConnectPaymentInfo } | null> {
  const settings = stripeSettingsFrom(await rt.settings.resolve(eventSettings(input.event), STRIPE_NAMESPACE));
  if (!settings.connectAccount) return null;
  const charge = connectChargeFor(settings, input.event, { amount: input.payment.amount, currency: input.payment.currency.trim() });
  if (!charge) return null;
  const stripe = platformClient(settings, charge.model === 'direct' ? charge.account : undefined);
  const pi = await createIntent(stripe, settings, input, connectIntentExtras(charge, input.order));
  return { pi, connect: connectInfo(charge, input.order) };
}
