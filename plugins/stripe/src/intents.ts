import { createHmac, timingSafeEqual } from 'node:crypto';
import { KassaError, type Money } from '@kassa/core';
import { stripeError } from './errors';
import Stripe from 'stripe';
import { toStripeAmount } from './amount';
import type { StripeSettings } from './settings-schema';
import { idempotencyKeys } from './stripe-client';
import { intentVerdict } from './status-map';

/*
 * The Stripe calls that move (or reserve) money, each with an idempotency key derived from our
 * own row id. Pure network code: callers make sure no database transaction is open around them.
 */

/** PaymentIntent states in which Stripe lets us (and the buyer) still change the outcome. */
export const OPEN_INTENT_STATES: readonly Stripe.PaymentIntent.Status[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

/**
 * Creates the PaymentIntent for one payment attempt: the amount is the payment row's (computed
 * by the server when the order was placed), converted to Stripe's exponents; the idempotency key
 * is the payment id, so a double click or a retried request returns the same intent.
 */
export async function createIntent(
  stripe: Stripe, settings: StripeSettings,
  input: { payment: { id: string; amount: number; currency: string }; order: { id: string; code: string }; event: { id: string; slug: string } },
  connect?: { params: Partial<Stripe.PaymentIntentCreateParams>; stripeAccount?: string },
  save?: { customer: string | null; instalment: boolean },
): Promise<Stripe.PaymentIntent> {
  const { payment, order, event } = input;
  const { amount, currency } = toStripeAmount({ amount: payment.amount, currency: payment.currency.trim() });
  const params: Stripe.PaymentIntentCreateParams = {
    amount,
    currency,
    capture_method: settings.captureMethod === 'manual' ? 'manual' : 'automatic',
    description: `${event.slug}-${order.code}`,
    metadata: {
      kassa_payment_id: payment.id, kassa_order_id: order.id, order_code: order.code, event: event.slug, event_id: event.id,
      // An instalment of a plan: a failed attempt leaves it to the plan (the buyer may still pay), it does not fail the payment.
      ...(save?.instalment ? { kassa_instalment: 'true' } : {}),
    },
    // The buyer saves the card (a plan's deposit, or "save this card"): Stripe's recipe for paying now and off-session later.
    ...(save?.customer ? { customer: save.customer, setup_future_usage: 'off_session' as const } : {}),
    ...(settings.statementDescriptorSuffix ? { statement_descriptor_suffix: settings.statementDescriptorSuffix } : {}),
    ...(settings.paymentMethods.length > 0
      ? { allowed_payment_method_types: settings.paymentMethods as Stripe.PaymentIntentCreateParams.AllowedPaymentMethodType[] }
      : { automatic_payment_methods: { enabled: true } }),
    // Stripe Connect: fee, destination or transfer group (connect/connect-charge.ts).
    ...connect?.params,
  };
  const options = { idempotencyKey: idempotencyKeys.createIntent(payment.id), ...(connect?.stripeAccount ? { stripeAccount: connect.stripeAccount } : {}) };
  return stripeCall('create the payment', () => stripe.paymentIntents.create(params, options));
}

/** Retrieves an intent with its latest charge expanded (card details, 3DS outcome). */
export function retrieveIntent(stripe: Stripe, intentId: string): Promise<Stripe.PaymentIntent> {
  return stripeCall('read the payment', () => stripe.paymentIntents.retrieve(intentId, { expand: ['latest_charge'] }));
}

/** Captures an authorization, fully or partly (the rest is released by Stripe at once). */
export async function captureIntent(stripe: Stripe, payment: { id: string; currency: string }, intentId: string, amount?: Money): Promise<Stripe.PaymentIntent> {
  const pi = await retrieveIntent(stripe, intentId);
  if (pi.status !== 'requires_capture') {
    throw stripeError('STRIPE_CAPTURE_NOT_ALLOWED', { payment: payment.id, reason: `the authorization is ${pi.status}` });
  }
  let toCapture = pi.amount_capturable;
  if (amount) {
    if (amount.currency !== payment.currency.trim()) throw new KassaError('MONEY_CURRENCY_MISMATCH', { left: amount.currency, right: payment.currency });
    toCapture = toStripeAmount(amount).amount;
    if (toCapture <= 0 || toCapture > pi.amount_capturable) {
      throw stripeError('STRIPE_CAPTURE_NOT_ALLOWED', { payment: payment.id, reason: `amount ${amount.amount} is not between 1 and the authorized amount` });
    }
  }
  return stripeCall('capture the payment', () => stripe.paymentIntents.capture(
    intentId, { amount_to_capture: toCapture, expand: ['latest_charge'] }, { idempotencyKey: idempotencyKeys.capture(payment.id, toCapture) },
  ));
}

/**
 * Cancels an intent that has not moved money (releases an authorization). Already canceled is
 * fine; a succeeded or processing intent is refused, since the money is (or may be) on its way.
 */
export async function cancelIntent(stripe: Stripe, payment: { id: string }, intentId: string, reason: 'abandoned' | 'requested_by_customer'): Promise<Stripe.PaymentIntent> {
  const pi = await retrieveIntent(stripe, intentId);
  // Already canceled at Stripe (Stripe's own status, read through the one status table).
  if (intentVerdict(pi).kind === 'canceled') return pi;
  if (pi.status !== 'requires_capture' && !OPEN_INTENT_STATES.includes(pi.status)) {
    throw stripeError('STRIPE_CAPTURE_NOT_ALLOWED', { payment: payment.id, reason: `the payment is ${pi.status} at Stripe and cannot be canceled` });
  }
  return stripeCall('cancel the payment', () => stripe.paymentIntents.cancel(
    intentId, { cancellation_reason: reason, expand: ['latest_charge'] }, { idempotencyKey: idempotencyKeys.cancelIntent(payment.id) },
  ));
}

/** A refund of part or all of a captured payment; keyed by our refund row. */
export function createRefund(
  stripe: Stripe, input: { intentId: string; refundId: string; paymentId: string; amount: Money; connect?: Pick<Stripe.RefundCreateParams, 'reverse_transfer' | 'refund_application_fee'> },
): Promise<Stripe.Refund> {
  const { amount } = toStripeAmount(input.amount);
  return stripeCall('refund the payment', () => stripe.refunds.create(
    { payment_intent: input.intentId, amount, metadata: { kassa_refund_id: input.refundId, kassa_payment_id: input.paymentId }, ...input.connect },
    { idempotencyKey: idempotencyKeys.refund(input.refundId) },
  ));
}

/** Every refund of an intent (Stripe lists newest first; we need them all, not a page). */
export async function listRefunds(stripe: Stripe, intentId: string): Promise<Stripe.Refund[]> {
  return stripeCall('list refunds', () => stripe.refunds.list({ payment_intent: intentId, limit: 100 }).autoPagingToArray({ limit: 1000 }));
}

/**
 * Runs a Stripe call and turns Stripe's refusals into STRIPE_API_ERROR (naming the operation and
 * Stripe's own message); a card decline stays a StripeCardError for the caller to read.
 */
export async function stripeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof Stripe.errors.StripeCardError) throw err;
    if (err instanceof Stripe.errors.StripeError) {
      throw stripeError('STRIPE_API_ERROR', { operation, detail: `${err.type}${err.code ? ` ${err.code}` : ''}: ${err.message}` }, { cause: err });
    }
    throw err;
  }
}

/**
 * The token in the buyer's pay and return links: an HMAC of the payment id under the order's own
 * secret, so knowing a payment id is not enough to open its payment page.
 */
export function paymentLinkToken(order: { readonly secret: string }, paymentId: string): string {
  return createHmac('sha256', order.secret).update(`kassa-stripe:${paymentId}`).digest('base64url').slice(0, 32);
}

export function checkPaymentLinkToken(order: { readonly secret: string }, paymentId: string, token: string): boolean {
  const expected = Buffer.from(paymentLinkToken(order, paymentId));
  const got = Buffer.from(token);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Stripe answered 404 resource_missing (possibly wrapped in STRIPE_API_ERROR by stripeCall). */
export function isResourceMissing(err: unknown): boolean {
  const e = err instanceof KassaError && err.cause ? err.cause : err;
  return e instanceof Stripe.errors.StripeError && (e.code === 'resource_missing' || e.statusCode === 404);
}
