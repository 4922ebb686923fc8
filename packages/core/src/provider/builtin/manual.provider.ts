import type { Money } from '../../money/money';
import { BasePaymentProvider, type JsonSchema } from '../base-payment-provider';
import type { PaymentCallInput, PaymentOutcome, ProviderContext, ViewModel } from '../provider-types';

/** What the organizer configures for manual payment (cash, invoice, box office…). */
export type ManualSettings = {
  /** The method's name at checkout, e.g. "Pay at the box office". */
  publicName: string;
  /** Shown while the payment is open: how and where to pay. */
  pendingInstructions: string;
};

/**
 * Manual payment, after pretix's ManualPayment: the buyer picks it, the payment stays pending, and
 * the organizer marks it paid in the control panel. Refunds are manual too: the organizer books them
 * (no automatic refund), and an open manual payment may be abandoned for another method.
 */
export class ManualProvider extends BasePaymentProvider<ManualSettings> {
  readonly identifier = 'manual';
  readonly verboseName = 'Manual payment';
  override readonly executePaymentNeedsUser = false;
  override readonly abortPendingAllowed = true;
  // Both texts are required, but only once the provider is enabled (soft-required).
  override readonly settingsSchema: JsonSchema = {
    type: 'object',
    properties: {
      publicName: { type: 'string', minLength: 1, maxLength: 200, title: 'Name at checkout' },
      pendingInstructions: { type: 'string', minLength: 1, maxLength: 5000, title: 'Payment instructions for the buyer' },
    },
    required: ['publicName', 'pendingInstructions'],
    additionalProperties: false,
  };

  /** Nothing moves: the payment waits for the organizer. */
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'pending' });
  }

  override paymentFormRender(ctx: ProviderContext<ManualSettings>, total: Money): ViewModel {
    return { partial: 'kassa/manual-checkout', data: { publicName: ctx.settings.publicName ?? this.publicName, total } };
  }

  override paymentPendingRender(ctx: ProviderContext<ManualSettings>, call: PaymentCallInput): ViewModel {
    return {
      partial: 'kassa/manual-pending',
      data: { instructions: ctx.settings.pendingInstructions ?? '', amount: { amount: call.payment.amount, currency: call.payment.currency } },
    };
  }

  override paymentControlRender(_ctx: ProviderContext<ManualSettings>, call: PaymentCallInput): ViewModel {
    return { partial: 'kassa/manual-control', data: { state: call.payment.state, paymentDate: call.payment.paymentDate } };
  }
}
