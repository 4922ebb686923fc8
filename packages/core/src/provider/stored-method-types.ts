import type { Order } from '../order/order.entity';
import type { OrderPayment } from '../payment/order-payment.entity';

/** A buyer's saved method as core hands it to its provider: the provider's reference and display details only. */
export interface StoredMethodRef {
  /** Core's id of the stored method. */
  readonly id: string;
  /** The provider's reference, e.g. Stripe's pm_… */
  readonly reference: string;
  /** The provider's customer id for this organizer and buyer (Stripe's cus_…), when it keeps one. */
  readonly customerReference: string | null;
  readonly brand: string | null;
  readonly last4: string | null;
  readonly expMonth: number | null;
  readonly expYear: number | null;
}

/** What a provider reports after saving a method (display details; never card data). */
export interface SavedMethodDetails {
  readonly reference: string;
  readonly customerReference?: string | null;
  readonly brand?: string | null;
  readonly last4?: string | null;
  readonly expMonth?: number | null;
  readonly expYear?: number | null;
}

/**
 * One off-session charge: the instalment's own payment row, the stored method, and the
 * idempotency key the provider must send with every mutating call of this charge. The key is
 * made from the payment's id and the attempt number: a crashed run charges again with the same
 * key (the gateway answers with the first charge), a retry after a soft decline with a new one.
 */
export interface OffSessionChargeInput {
  readonly order: Order;
  readonly payment: OrderPayment;
  readonly method: StoredMethodRef;
  readonly idempotencyKey: string;
}

/** Why an off-session charge needs the buyer at the keyboard. */
export type ActionReason = 'authentication' | 'expired_card' | 'hard_decline'
  /** Set by core: the soft declines used up the retry schedule, or the plan has no usable method. */
  | 'retries_exhausted' | 'no_method';

/**
 * What an off-session charge reports. Expected outcomes are values, not exceptions; a thrown
 * error (network, 5xx, timeout) means "unknown": core leaves the claim to run out and charges
 * again with the same idempotency key.
 */
export type OffSessionOutcome =
  | { kind: 'succeeded'; info?: Record<string, unknown> }
  | { kind: 'processing'; info?: Record<string, unknown> }
  | { kind: 'action_required'; reason: ActionReason; message: string; code?: string; info?: Record<string, unknown> }
  | { kind: 'soft_decline'; message: string; code?: string; info?: Record<string, unknown> };
