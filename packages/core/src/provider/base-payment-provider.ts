import { KassaError } from '../errors';
import type { Money } from '../money/money';
import type { OrderPayment } from '../payment/order-payment.entity';
import type {
  AvailabilityQuery, PaymentCallInput, PaymentOutcome, ProviderContext, RefundCallInput, RefundOutcome, ViewModel,
} from './provider-types';
import type { OffSessionChargeInput, OffSessionOutcome, StoredMethodRef } from './stored-method-types';

/** JSON Schema (TypeBox schemas are JSON Schema) for a provider's own settings. */
export type JsonSchema = Record<string, unknown>;

/**
 * The provider contract, after pretix's BasePaymentProvider (reference/pretix.md §2.2), in camelCase.
 * Subclasses implement `identifier`, `verboseName` and `executePayment`; everything else has a
 * sensible default. Methods never open database transactions themselves and core never calls them
 * inside one, so a provider may talk to the network freely.
 *
 * Framework-level settings every provider has (enabled, fees, availability window, min/max total,
 * country restriction) live in `ProviderCommonSettings` and are handled by core.
 */
export abstract class BasePaymentProvider<Settings extends object = Record<string, unknown>, PaymentInfo extends object = Record<string, unknown>> {
  /** Unique lowercase id, e.g. "manual", "stripe". */
  abstract readonly identifier: string;
  /** Name shown to organizers. */
  abstract readonly verboseName: string;
  /** Name shown to buyers. */
  get publicName(): string {
    return this.verboseName;
  }
  /** Sort order at checkout, higher first. */
  readonly priority: number = 100;
  /** Used silently whenever allowed (the free provider). */
  readonly isImplicit: boolean = false;
  /** Whether the provider is enabled while nobody has set its `_enabled` setting (pretix: only the free provider). */
  readonly enabledByDefault: boolean = false;
  /** Whether executePayment needs the buyer's browser (redirects, forms). */
  readonly executePaymentNeedsUser: boolean = true;
  /** Whether a pending payment may be abandoned (switch method) and canceled. */
  readonly abortPendingAllowed: boolean = false;
  /** JSON Schema of this provider's own settings; secrets are marked with `"x-secret": true`. */
  readonly settingsSchema: JsonSchema = { type: 'object', properties: {}, additionalProperties: false };
  /**
   * Rules across this provider's settings that a flat schema cannot express (e.g. "these keys, or a
   * connection, while enabled"), checked with the schema on every write at every level: the
   * effective values in, a message naming the field out (null = fine).
   */
  settingsCheck(_values: Readonly<Record<string, unknown>>): string | null {
    return null;
  }
  /** Origins the buyer's page must be allowed to load scripts/frames from (CSP), e.g. Stripe.js. */
  contentSecurityPolicy(_ctx: ProviderContext<Settings>): { scriptSrc?: string[]; frameSrc?: string[]; connectSrc?: string[] } {
    return {};
  }

  /** Provider-specific availability on top of core's window/min/max/country checks. */
  isAllowed(_ctx: ProviderContext<Settings>, _query: AvailabilityQuery): boolean {
    return true;
  }

  /**
   * Checkout: validate the buyer's input for this method and return what to keep in the session.
   * Must not move money. Return `{ ok: false, errors }` to show field errors.
   */
  checkoutPrepare(_ctx: ProviderContext<Settings>, _input: Record<string, unknown>): Promise<PrepareResult> | PrepareResult {
    return { ok: true, session: {} };
  }

  /** Whether the session data from checkoutPrepare/paymentPrepare is still enough to pay. */
  paymentIsValidSession(_ctx: ProviderContext<Settings>, _session: Record<string, unknown>): boolean {
    return true;
  }

  /** Like checkoutPrepare, for retrying or switching method on an existing order. Must not move money. */
  paymentPrepare(ctx: ProviderContext<Settings>, _call: PaymentCallInput, input: Record<string, unknown>): Promise<PrepareResult> | PrepareResult {
    return this.checkoutPrepare(ctx, input);
  }

  /** Moves the money. Returns the outcome; core applies it to the payment under its lock. */
  abstract executePayment(ctx: ProviderContext<Settings>, call: PaymentCallInput & { session: Record<string, unknown> }): Promise<PaymentOutcome>;

  /** The checkout form panel for this method (null: no form). */
  paymentFormRender(_ctx: ProviderContext<Settings>, _total: Money): ViewModel | null {
    return null;
  }

  /** Summary on the confirm page. */
  checkoutConfirmRender(_ctx: ProviderContext<Settings>, _session: Record<string, unknown>): ViewModel | null {
    return null;
  }

  /** Instructions for an open payment on the buyer's order page. */
  paymentPendingRender(_ctx: ProviderContext<Settings>, _call: PaymentCallInput): ViewModel | null {
    return null;
  }

  /**
   * Plain text (no HTML) for the buyer's "order placed, payment pending" email, after pretix's
   * `order_pending_mail_render(order, payment)`: e.g. the account, amount and reference to
   * transfer. The jobs runtime calls it outside any transaction for the order's open payment and
   * puts the text in the email's text part and, escaped, in its HTML part. Null (the default):
   * the email carries no payment block. Should it throw, the email goes out without the block.
   */
  paymentPendingMailRender(_ctx: ProviderContext<Settings>, _call: PaymentCallInput): string | null {
    return null;
  }

  /** Payment details in the control panel. */
  paymentControlRender(_ctx: ProviderContext<Settings>, _call: PaymentCallInput): ViewModel | null {
    return null;
  }

  /** Customer-safe one-liner, e.g. "Visa ****4242". */
  paymentPresaleRender(_payment: OrderPayment): string {
    return this.publicName;
  }

  /** Whether a full automatic refund is possible for this payment. */
  paymentRefundSupported(_payment: OrderPayment): boolean {
    return false;
  }

  /** Whether a partial automatic refund is possible for this payment. */
  paymentPartialRefundSupported(_payment: OrderPayment): boolean {
    return false;
  }

  /** Sends money back. Core has already stored the refund (state created) and applies the outcome. */
  executeRefund(_ctx: ProviderContext<Settings>, call: RefundCallInput): Promise<RefundOutcome> {
    return Promise.reject(new KassaError('REFUND_NOT_SUPPORTED', { provider: this.identifier, payment: call.payment?.id ?? '-' }));
  }

  /**
   * Called before core cancels a created or pending payment, to tell the gateway (e.g. cancel a
   * PaymentIntent). Core refuses pending payments unless abortPendingAllowed.
   */
  cancelPayment(_ctx: ProviderContext<Settings>, _call: PaymentCallInput): Promise<void> {
    return Promise.resolve();
  }

  /** GDPR: what of `info` may be kept after shredding (non-personal references). Default: nothing. */
  shredPaymentInfo(_info: PaymentInfo | Record<string, unknown>): Record<string, unknown> {
    return {};
  }

  /** Provider-specific `details` in the REST API. */
  apiPaymentDetails(_payment: OrderPayment): Record<string, unknown> {
    return {};
  }

  /** The gateway's transaction id, for reconciliation. */
  matchingId(_payment: OrderPayment): string | null {
    return null;
  }

  /**
   * Capability: the provider can save a buyer's method and charge it later without the buyer
   * (docs/payment-plans.md). When true, implement `chargeStoredMethod` and `removeStoredMethod`.
   */
  readonly storesMethods: boolean = false;

  /** Charges a stored method off-session (a plan's instalment). Called outside any transaction. */
  chargeStoredMethod(_ctx: ProviderContext<Settings>, call: OffSessionChargeInput): Promise<OffSessionOutcome> {
    return Promise.reject(new KassaError('STORED_METHODS_NOT_SUPPORTED', { provider: this.identifier, payment: call.payment.id }));
  }

  /** The buyer removed the method (or its order was shredded): detach it at the gateway. */
  removeStoredMethod(_ctx: ProviderContext<Settings>, _method: StoredMethodRef): Promise<void> {
    return Promise.resolve();
  }
}

export type PrepareResult =
  | { ok: true; session: Record<string, unknown> }
  | { ok: false; errors: Record<string, string> };
