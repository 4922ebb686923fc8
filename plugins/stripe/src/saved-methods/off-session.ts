import type { OffSessionChargeInput, OffSessionOutcome } from '@kassa/core';
import Stripe from 'stripe';
import { toStripeAmount } from '../amount';
import type { RequestPacer } from './request-pacer';
import { intentVerdict } from '../status-map';

/**
 * Decline codes worth trying again later without the buyer (reference/stripe-spec.md §10: the
 * card is fine, the moment was not). Every other decline needs the buyer: a new card.
 */
const softDeclineCodes = new Set([
  'insufficient_funds', 'processing_error', 'try_again_later', 'approve_with_id', 'issuer_not_available', 'reenter_transaction',
  'withdrawal_count_limit_exceeded', 'card_velocity_exceeded', 'rate_limit',
]);

/**
 * Stripe's off-session recipe (stripe-spec.md §2): a PaymentIntent with the customer, the saved
 * payment method, `off_session` and `confirm`, created with core's idempotency key (the
 * instalment's payment row and attempt), so a repeated run gets the first answer back. No
 * redirect methods: nobody is there to follow one.
 */
export async function chargeOffSession(
  stripe: Stripe, pacer: RequestPacer, call: OffSessionChargeInput, event: { id: string; slug: string }, returnUrl?: string,
): Promise<OffSessionOutcome> {
  const { amount, currency } = toStripeAmount({ amount: call.payment.amount, currency: call.payment.currency.trim() });
  const params: Stripe.PaymentIntentCreateParams = {
    amount, currency, confirm: true, off_session: true,
    payment_method: call.method.reference,
    ...(call.method.customerReference ? { customer: call.method.customerReference } : {}),
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    description: `${event.slug}-${call.order.code}`,
    metadata: { kassa_payment_id: call.payment.id, kassa_order_id: call.order.id, order_code: call.order.code, event: event.slug, event_id: event.id, kassa_off_session: 'true' },
  };
  const existing = (call.payment.info as { intentId?: unknown }).intentId;
  try {
    if (typeof existing === 'string' && existing) {
      // One PaymentIntent per instalment payment: an earlier attempt's intent, or the one the buyer
      // was given on the pay page, is completed, never a second one started (at most one succeeds).
      const pi = await pacer.run(() => stripe.paymentIntents.retrieve(existing));
      // A canceled one (Stripe's status, read through the one status table) cannot take money: a new intent.
      if (intentVerdict(pi).kind !== 'canceled') return await completeExisting(stripe, pacer, pi, call, returnUrl);
    }
    const pi = await pacer.run(() => stripe.paymentIntents.create(params, { idempotencyKey: call.idempotencyKey }));
    return intentOutcome(pi);
  } catch (err) {
    if (err instanceof Stripe.errors.StripeCardError) return declineOutcome(err);
    throw err;
  }
}

/**
 * An intent of this payment that exists already: its outcome when it is decided (the buyer paid
 * it on-session meanwhile), else confirmed off-session with the saved method and core's key.
 * Stripe refuses to confirm an intent that has succeeded meanwhile: then its outcome counts.
 */
async function completeExisting(stripe: Stripe, pacer: RequestPacer, pi: Stripe.PaymentIntent, call: OffSessionChargeInput, returnUrl?: string): Promise<OffSessionOutcome> {
  const open: Stripe.PaymentIntent.Status[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
  if (!open.includes(pi.status)) return intentOutcome(pi);
  // An intent the buyer's pay page created allows redirects: Stripe then wants a return_url (spec §2.3).
  const redirects = pi.automatic_payment_methods?.enabled === true && pi.automatic_payment_methods.allow_redirects !== 'never';
  try {
    return intentOutcome(await pacer.run(() => stripe.paymentIntents.confirm(pi.id, {
      payment_method: call.method.reference, off_session: true, ...(redirects && returnUrl ? { return_url: returnUrl } : {}),
    }, { idempotencyKey: call.idempotencyKey })));
  } catch (err) {
    if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'payment_intent_unexpected_state') {
      return intentOutcome(await pacer.run(() => stripe.paymentIntents.retrieve(pi.id)));
    }
    throw err;
  }
}

/** What a created off-session intent means for the instalment. */
export function intentOutcome(pi: Stripe.PaymentIntent): OffSessionOutcome {
  const info = { intentId: pi.id, status: pi.status, offSession: true };
  switch (pi.status) {
    case 'succeeded': return { kind: 'succeeded', info };
    case 'processing': return { kind: 'processing', info };
    case 'requires_capture': return { kind: 'processing', info };
    case 'requires_action':
    case 'requires_confirmation':
      return { kind: 'action_required', reason: 'authentication', message: 'The bank asks the buyer to authenticate this payment.', code: 'authentication_required', info };
    default: {
      const e = pi.last_payment_error;
      return { kind: 'action_required', reason: 'hard_decline', message: e?.message ?? `the payment is ${pi.status}`, code: e?.decline_code ?? e?.code ?? pi.status, info };
    }
  }
}

/** Stripe's card errors mapped to core's outcomes: authentication, expired card, soft or hard decline. */
export function declineOutcome(err: Stripe.errors.StripeCardError): OffSessionOutcome {
  const raw = err.raw as { payment_intent?: { id?: string } } | undefined;
  const info = { intentId: raw?.payment_intent?.id ?? null, declineCode: err.decline_code ?? null, offSession: true };
  const code = err.code ?? 'card_declined';
  if (code === 'authentication_required' || err.decline_code === 'authentication_required') {
    return { kind: 'action_required', reason: 'authentication', message: err.message, code: 'authentication_required', info };
  }
  if (code === 'expired_card' || err.decline_code === 'expired_card') return { kind: 'action_required', reason: 'expired_card', message: err.message, code: 'expired_card', info };
  if (err.decline_code && softDeclineCodes.has(err.decline_code)) return { kind: 'soft_decline', message: err.message, code: err.decline_code, info };
  return { kind: 'action_required', reason: 'hard_decline', message: err.message, code: err.decline_code ?? code, info };
}
