import type Stripe from 'stripe';
import type { ConnectPaymentInfo } from './connect/connect-charge';

/**
 * What the Stripe provider keeps in `OrderPayment.info`. Card and billing details are personal
 * data and go away on shredding; the ids stay, so the payment can still be reconciled.
 */
export interface StripePaymentInfo {
  intentId?: string;
  account?: string;
  status?: string;
  captureMethod?: string;
  chargeId?: string | null;
  /** Stripe's amounts (its own exponents) as last seen. */
  amountCapturable?: number;
  amountReceived?: number;
  card?: { brand: string | null; last4: string | null; expMonth: number | null; expYear: number | null; country: string | null } | null;
  billing?: { name: string | null; email: string | null; country: string | null } | null;
  /** 3DS outcome of the latest charge: authenticated, attempt_acknowledged, failed, not required… */
  threeDSecure?: string | null;
  lastError?: { code: string; message: string } | null;
  cancellationReason?: string | null;
  /** The latest dispute on this payment, for the control panel. */
  dispute?: { id: string; status: string; dueBy: string | null; amount: number; currency: string } | null;
  /** Stripe Connect: the charge model, the connected account and the platform fee (our minor units). */
  connect?: ConnectPaymentInfo;
  /** The buyer chose a payment plan or "save this card": the intent saves the card (setup_future_usage=off_session). */
  saveMethod?: boolean;
  _shredded?: boolean;
}

/** The ids and display fields of a re-fetched PaymentIntent (with `latest_charge` expanded). */
export function infoFromIntent(pi: Stripe.PaymentIntent, account: string): StripePaymentInfo {
  const charge = typeof pi.latest_charge === 'object' && pi.latest_charge !== null ? pi.latest_charge : null;
  const card = charge?.payment_method_details?.card ?? null;
  const bd = charge?.billing_details ?? null;
  const e = pi.last_payment_error;
  return {
    intentId: pi.id,
    account,
    status: pi.status,
    captureMethod: pi.capture_method,
    chargeId: charge?.id ?? (typeof pi.latest_charge === 'string' ? pi.latest_charge : null),
    amountCapturable: pi.amount_capturable,
    amountReceived: pi.amount_received,
    card: card ? { brand: card.brand ?? null, last4: card.last4 ?? null, expMonth: card.exp_month ?? null, expYear: card.exp_year ?? null, country: card.country ?? null } : null,
    billing: bd ? { name: bd.name ?? null, email: bd.email ?? null, country: bd.address?.country ?? null } : null,
    threeDSecure: card?.three_d_secure ? (card.three_d_secure.result ?? 'attempted') : (card ? 'not_required' : null),
    lastError: e ? { code: e.decline_code ?? e.code ?? 'payment_failed', message: e.message ?? 'The payment failed.' } : null,
    cancellationReason: pi.cancellation_reason ?? null,
  };
}

/** Keys that survive shredding: references and amounts, nothing about the buyer or the card. */
const KEEP: readonly (keyof StripePaymentInfo)[] = ['intentId', 'account', 'status', 'captureMethod', 'chargeId', 'amountCapturable', 'amountReceived', 'cancellationReason', 'dispute', 'connect'];

export function shredInfo(info: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { _shredded: true };
  for (const k of KEEP) if (info[k] !== undefined) out[k] = info[k];
  return out;
}
