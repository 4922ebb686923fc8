import {
  BasePaymentProvider, KassaError, type Clock, type Event, type OrderPayment, type PaymentCallInput, type PaymentOutcome,
  type ProviderContext, type ProviderContextFactory, type ProviderLookup, type RefundCallInput, type RefundOutcome,
  toCommonSettings,
} from '@kassa/core/host';

export interface ScriptedProviderOptions {
  identifier: string;
  /** paymentRefundSupported */
  refund?: boolean;
  /** paymentPartialRefundSupported */
  partialRefund?: boolean;
  abortPending?: boolean;
  /** The provider's own settings in its context. */
  settings?: Record<string, unknown>;
  /** Framework settings (`_feeAbs`, `_feePercent`, `_feeReverseCalc`, `_totalMax`…); `_enabled` defaults to true. */
  common?: Record<string, unknown>;
}

/**
 * A real provider (a BasePaymentProvider subclass, not a mock of core) whose gateway answers are
 * scripted by the test: queue outcomes, then read `calls` to see what core asked for and when.
 */
export class ScriptedProvider extends BasePaymentProvider {
  readonly identifier: string;
  readonly verboseName: string;
  override readonly abortPendingAllowed: boolean;
  override readonly enabledByDefault = true;
  readonly settings: Record<string, unknown>;
  readonly common: Record<string, unknown>;
  /** Outcomes for the next executePayment calls; `confirmed` when empty. An Error is thrown. */
  readonly paymentOutcomes: (PaymentOutcome | Error)[] = [];
  /** Outcomes for the next executeRefund calls; `done` when empty. An Error is thrown. */
  readonly refundOutcomes: (RefundOutcome | Error)[] = [];
  /** Every gateway call core made, in order. */
  readonly calls: { method: 'executePayment' | 'executeRefund' | 'cancelPayment'; id: string; amount: number }[] = [];
  /** Set to make the next cancelPayment calls throw (gateway refuses). */
  failCancel = false;
  /** Runs inside every gateway call, e.g. to check that core holds no row lock meanwhile. */
  onCall: ((method: 'executePayment' | 'executeRefund' | 'cancelPayment', orderId: string) => Promise<void>) | null = null;
  private readonly refund: boolean;
  private readonly partialRefund: boolean;

  constructor(opts: ScriptedProviderOptions) {
    super();
    this.identifier = opts.identifier;
    this.verboseName = `Scripted ${opts.identifier}`;
    this.refund = opts.refund ?? false;
    this.partialRefund = opts.partialRefund ?? false;
    this.abortPendingAllowed = opts.abortPending ?? false;
    this.settings = opts.settings ?? {};
    this.common = { _enabled: true, ...opts.common };
  }

  async executePayment(_ctx: ProviderContext, call: PaymentCallInput & { session: Record<string, unknown> }): Promise<PaymentOutcome> {
    this.calls.push({ method: 'executePayment', id: call.payment.id, amount: call.payment.amount });
    await this.onCall?.('executePayment', call.order.id);
    const next = this.paymentOutcomes.shift() ?? { kind: 'confirmed', info: { reference: `ref-${call.payment.id}`, cardholder: 'Jane Buyer' } };
    if (next instanceof Error) throw next;
    return next;
  }

  override async executeRefund(_ctx: ProviderContext, call: RefundCallInput): Promise<RefundOutcome> {
    this.calls.push({ method: 'executeRefund', id: call.refund.id, amount: call.refund.amount });
    await this.onCall?.('executeRefund', call.order.id);
    const next = this.refundOutcomes.shift() ?? { kind: 'done', externalId: `re-${call.refund.id}` };
    if (next instanceof Error) throw next;
    return next;
  }

  override async cancelPayment(_ctx: ProviderContext, call: PaymentCallInput): Promise<void> {
    this.calls.push({ method: 'cancelPayment', id: call.payment.id, amount: call.payment.amount });
    await this.onCall?.('cancelPayment', call.order.id);
    if (this.failCancel) throw new KassaError('PROVIDER_ERROR', { provider: this.identifier, detail: 'gateway refused cancel' });
  }

  override paymentRefundSupported(_payment: OrderPayment): boolean {
    return this.refund;
  }

  override paymentPartialRefundSupported(_payment: OrderPayment): boolean {
    return this.partialRefund;
  }

  /** Keeps the non-personal gateway reference, drops everything else. */
  override shredPaymentInfo(info: Record<string, unknown>): Record<string, unknown> {
    return 'reference' in info ? { reference: info.reference } : {};
  }
}

/** A ProviderLookup over a fixed set of providers (the real registry is built by the plugin loader). */
export function providerLookup(...providers: BasePaymentProvider[]): ProviderLookup {
  const byId = new Map(providers.map((p) => [p.identifier, p]));
  return {
    has: (id) => byId.has(id),
    get: (id) => {
      const p = byId.get(id);
      if (!p) throw new KassaError('PAYMENT_PROVIDER_UNKNOWN', { provider: id });
      return p;
    },
  };
}

/**
 * Contexts carrying each ScriptedProvider's `settings` and `common` framework settings (the real
 * factory resolves them from the settings store; the services only see the resulting context).
 */
export function providerContextFactory(lookup: ProviderLookup, clock: Clock): ProviderContextFactory {
  return async (event: Event, providerId: string) => {
    const provider = lookup.get(providerId);
    const scripted = provider instanceof ScriptedProvider ? provider : null;
    // Other test providers (StoredMethodProvider) may carry framework settings too.
    const common = scripted?.common ?? (provider as { common?: Record<string, unknown> }).common;
    return {
      event, clock, baseUrl: 'http://kassa.test',
      settings: scripted?.settings ?? {},
      common: toCommonSettings(common ?? { _enabled: true }, provider.enabledByDefault),
    };
  };
}
