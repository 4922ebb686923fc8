import {
  BasePaymentProvider, type OffSessionChargeInput, type OffSessionOutcome, type PaymentCallInput, type PaymentOutcome, type ProviderContext, type StoredMethodRef,
} from '@kassa/core/host';

/** Where a gateway double keeps its charges: in memory, or a table shared by several processes. */
export interface ChargeLedger {
  /**
   * Stores the outcome under the idempotency key unless the key is known; returns the stored
   * outcome (the first one for a known key, as a real gateway answers a repeated key).
   */
  charge(key: string, paymentId: string, outcome: OffSessionOutcome): Promise<OffSessionOutcome>;
}

export class MemoryChargeLedger implements ChargeLedger {
  readonly byKey = new Map<string, { paymentId: string; outcome: OffSessionOutcome }>();
  async charge(key: string, paymentId: string, outcome: OffSessionOutcome): Promise<OffSessionOutcome> {
    const known = this.byKey.get(key);
    if (known) return known.outcome;
    this.byKey.set(key, { paymentId, outcome });
    return outcome;
  }

  /** Successful charges per payment: more than one is a double charge. */
  successesPerPayment(): Map<string, number> {
    const out = new Map<string, number>();
    for (const { paymentId, outcome } of this.byKey.values()) if (outcome.kind === 'succeeded') out.set(paymentId, (out.get(paymentId) ?? 0) + 1);
    return out;
  }
}

/**
 * A provider that stores methods (the capability of docs/payment-plans.md) whose gateway is a
 * double with idempotency keys, like Stripe's: scripted outcomes per method reference, `calls`
 * for what core asked, and a ledger that answers a repeated key with the first outcome.
 */
export class StoredMethodProvider extends BasePaymentProvider {
  readonly identifier: string;
  readonly verboseName: string;
  override readonly storesMethods = true;
  override readonly enabledByDefault = true;
  /** Outcomes for the next charges of a method reference (default: succeeded); an Error is thrown. */
  readonly script = new Map<string, (OffSessionOutcome | Error)[]>();
  readonly calls: { paymentId: string; key: string; reference: string; customer: string | null }[] = [];
  readonly removed: string[] = [];
  /** Runs before the gateway answers (e.g. to hang there while the test kills the process). */
  beforeAnswer: ((call: OffSessionChargeInput) => Promise<void>) | null = null;
  /** Framework settings (`_feeAbs`, `_feePercent`, `_feeReverseCalc`…) the test context factory resolves, as for ScriptedProvider. */
  common: Record<string, unknown> = { _enabled: true };

  constructor(opts: { identifier: string; ledger?: ChargeLedger }, readonly ledger: ChargeLedger = opts.ledger ?? new MemoryChargeLedger()) {
    super();
    this.identifier = opts.identifier;
    this.verboseName = `Stored ${opts.identifier}`;
  }

  /** The on-session payments executed: payment id, amount and the session the shop passed (e.g. `saveMethod`). */
  readonly executed: { paymentId: string; amount: number; session: Record<string, unknown> }[] = [];

  async executePayment(_ctx: ProviderContext, call: PaymentCallInput & { session: Record<string, unknown> }): Promise<PaymentOutcome> {
    this.executed.push({ paymentId: call.payment.id, amount: call.payment.amount, session: call.session });
    return { kind: 'confirmed', info: { onSession: true } };
  }

  override async chargeStoredMethod(_ctx: ProviderContext, call: OffSessionChargeInput): Promise<OffSessionOutcome> {
    this.calls.push({ paymentId: call.payment.id, key: call.idempotencyKey, reference: call.method.reference, customer: call.method.customerReference });
    const queue = this.script.get(call.method.reference);
    const next = queue?.shift() ?? { kind: 'succeeded', info: { charge: `ch_${call.idempotencyKey}` } };
    if (next instanceof Error) throw next;
    const answer = await this.ledger.charge(call.idempotencyKey, call.payment.id, next);
    await this.beforeAnswer?.(call);
    return answer;
  }

  override async removeStoredMethod(_ctx: ProviderContext, method: StoredMethodRef): Promise<void> {
    this.removed.push(method.reference);
  }
}
