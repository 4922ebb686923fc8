import type Stripe from 'stripe';

/**
 * What a PaymentIntent's state means for our payment row (reference/stripe-spec.md §1.2–§1.3).
 * One table, used by checkout, the return page, webhooks and the sync job alike, so that every
 * path reaches the same verdict from the same re-fetched object.
 */
export type IntentVerdict =
  | { kind: 'confirmed'; amountReceived: number }
  | { kind: 'authorized'; amountCapturable: number }
  | { kind: 'processing' }
  | { kind: 'requires_action'; redirectUrl: string | null }
  | { kind: 'open' }
  | { kind: 'failed'; code: string; message: string }
  | { kind: 'canceled'; reason: string | null };

export function intentVerdict(pi: Pick<Stripe.PaymentIntent, 'status' | 'amount_received' | 'amount_capturable' | 'next_action' | 'last_payment_error' | 'cancellation_reason'>): IntentVerdict {
  switch (pi.status) {
    case 'succeeded':
      return { kind: 'confirmed', amountReceived: pi.amount_received };
    case 'requires_capture':
      return { kind: 'authorized', amountCapturable: pi.amount_capturable };
    case 'processing':
      return { kind: 'processing' };
    case 'requires_action':
      return { kind: 'requires_action', redirectUrl: pi.next_action?.redirect_to_url?.url ?? null };
    case 'requires_payment_method':
      // Back here after any failed attempt (decline, failed 3DS, off-session authentication_required).
      if (pi.last_payment_error) {
        const e = pi.last_payment_error;
        return { kind: 'failed', code: e.decline_code ?? e.code ?? 'payment_failed', message: e.message ?? 'The payment failed.' };
      }
      return { kind: 'open' };
    case 'requires_confirmation':
      return { kind: 'open' };
    case 'canceled':
      return { kind: 'canceled', reason: pi.cancellation_reason ?? null };
    default:
      return { kind: 'open' };
  }
}

/** Refund statuses → our refund outcome. `requires_action` (rare, e.g. bank details) waits. */
export type RefundVerdict = 'done' | 'transit' | 'failed' | 'canceled';

export function refundVerdict(status: string | null): RefundVerdict {
  switch (status) {
    case 'succeeded':
      return 'done';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'canceled';
    default: // pending, requires_action
      return 'transit';
  }
}
