import { BasePaymentProvider } from '../base-payment-provider';
import type { AvailabilityQuery, PaymentCallInput, PaymentOutcome, ProviderContext } from '../provider-types';

/**
 * Zero-total orders, after pretix's FreeOrderProvider: implicit (used silently, never offered as a
 * choice), enabled unless the organizer turns it off, allowed only when the total is zero, and
 * confirms at once.
 */
export class FreeProvider extends BasePaymentProvider {
  readonly identifier = 'free';
  readonly verboseName = 'Free of charge';
  override readonly isImplicit = true;
  override readonly enabledByDefault = true;
  override readonly executePaymentNeedsUser = false;

  override isAllowed(_ctx: ProviderContext, query: AvailabilityQuery): boolean {
    return query.total.amount === 0;
  }

  /** Confirms a zero payment; refuses (as an outcome, not an exception) any amount above zero. */
  executePayment(_ctx: ProviderContext, call: PaymentCallInput): Promise<PaymentOutcome> {
    if (call.payment.amount !== 0) {
      return Promise.resolve({ kind: 'failed', code: 'not_free', message: `The free provider cannot take ${call.payment.amount} ${call.payment.currency}` });
    }
    return Promise.resolve({ kind: 'confirmed' });
  }
}
