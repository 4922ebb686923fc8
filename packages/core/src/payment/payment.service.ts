import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import type { Event } from '../event/event.entity';
import { assertCurrency, assertNonNegative, assertSameCurrency, type Money } from '../money/money';
import type { Order } from '../order/order.entity';
import { orderMachine } from '../order/order.machine';
import { assertPayable, paymentRefusal } from '../order/order-payability';
import type { CoreDeps } from '../order/service-deps';
import { loadOrderSums, lockOrderWithSums, type OrderSums } from '../persistence/order-sums';
import { confirmPaymentRow, lockOrderAndPayIfCovered } from '../persistence/payment-confirm';
import { loadPaymentOrderEvent, markPaymentInitiated, pendCreatedPayment } from '../persistence/payment-execute';
import {
  findOpenPayment, insertPaymentRow, readEvent, readOrderStatus, setPaymentAmount, setPaymentInfo,
} from '../persistence/payment-rows';
import { isUuid, lockPayment, lockPaymentWithOrder, type OrderRef } from '../persistence/rows';
import { changeOrderPrepared, changePayment, record } from '../persistence/state-change';
import { withSavepoint, withTransaction } from '../persistence/transaction';
import { takeExecutionReservation } from './execution-reservation';
import type { BasePaymentProvider } from '../provider/base-payment-provider';
import type { PaymentOutcome, ProviderContext } from '../provider/provider-types';
import { OrderPayment } from './order-payment.entity';
import { paymentMachine, type PaymentState } from './payment.machine';
import {
  changePaymentMethod, quotePaymentMethodChange, type PaymentMethodChangeResult, type PaymentMethodQuote,
} from './payment-method-change';

/** What confirmPayment did. The payment is confirmed in every case; `kind` says what became of the order. */
export type ConfirmResult =
  /** Another call confirmed it first (idempotent: nothing written). */
  | { kind: 'already_confirmed'; payment: OrderPayment }
  /** Payments minus refunds now cover the total: the order is paid. */
  | { kind: 'order_paid'; payment: OrderPayment; order: OrderSums }
  /** A partial payment: the order stays pending (or expired). */
  | { kind: 'partially_paid'; payment: OrderPayment; order: OrderSums }
  /** The order was already paid or canceled: the money is recorded, see `order.isOverpaid`. */
  | { kind: 'order_unchanged'; payment: OrderPayment; order: OrderSums }
  /** Fully paid but the expired order could not be revived: it stays expired and pending-with-full-payment. */
  | { kind: 'quota_exceeded'; payment: OrderPayment; order: OrderSums; reason: string };

export interface ConfirmOptions {
  actor: Actor;
  /** Merged into the payment's info. */
  info?: Record<string, unknown>;
  /** Revive an expired order even without quota or after the payment term (organizer's decision). */
  force?: boolean;
  paymentDate?: Date;
}

/** What executePayment reports: the provider's outcome, and for a confirmed one what became of the order. */
export interface ExecuteResult {
  outcome: PaymentOutcome;
  confirmation?: ConfirmResult;
}

/**
 * What the caller of executePayment already has (the shop, right after placing the order), to save
 * reading it again. Used only when it matches the payment asked for.
 */
export interface ExecuteKnown {
  loaded?: { payment: OrderPayment; order: Order; event: Event };
  /** A provider context for the payment's event, built for provider `contextProvider`. */
  context?: ProviderContext;
  contextProvider?: string;
  /**
   * The payment is started without the buyer present (e.g. a job charging a saved card). A step
   * the buyer must take is then emailed at once; otherwise only if the buyer leaves it unfinished.
   */
  offSession?: boolean;
}

/** What manualConfirm confirms from: payments not settled yet (pretix's API guard). */
const manuallyConfirmable: readonly PaymentState[] = paymentMachine.statesOf('open');

/** Payments: one row per attempt, after pretix §1.2. */
export class PaymentService {
  constructor(private readonly deps: CoreDeps) {}

  /**
   * A new attempt in state `created` for an order that can still be paid (order-payability.ts;
   * `force`, the organizer's, skips the last date, late payments and quota). The amount defaults
   * to what is still owed (pendingSum). `received` (money that already arrived, e.g. a bank
   * transfer on a statement, with its amount) skips the payability check: the money is recorded
   * on any order and its confirmation decides and flags (pretix confirms it, never drops it).
   */
  async createPayment(orderId: string, input: { provider: string; amount?: Money; actor?: Actor; force?: boolean; reuseOpen?: boolean; received?: boolean }): Promise<OrderPayment> {
    this.assertKnownProvider(input.provider);
    if (input.amount !== undefined) assertPositiveMoney(input.amount, 'amount');
    return withTransaction(this.deps.dataSource, async (tx) => {
      const { order, sums } = await lockOrderWithSums(tx, orderId);
      const event = await readEvent(tx, order.eventId);
      // An explicit amount may top up an order (the organizer's call); otherwise something must be owed.
      if (input.received && !input.amount) throw new KassaError('VALIDATION_FAILED', { field: 'amount', detail: 'received money needs its amount' });
      if (!input.received) await assertPayable(tx, { order, event, now: this.deps.clock.now(), quota: 'read', force: input.force, ...(input.amount ? {} : { pendingSum: sums.pendingSum }) });
      if (input.amount) assertSameCurrency(input.amount.currency, order.currency);
      const amount = input.amount?.amount ?? sums.pendingSum;
      if (input.reuseOpen) {
        // pretix's mark_paid: an open payment of this provider for exactly this amount is used
        // again, so two clicks (serialised by the order lock) book the money once.
        const open = await findOpenPayment(tx, orderId, input.provider, amount);
        if (open) return open;
      }
      const payment = await insertPayment(tx, order, { provider: input.provider, amount, feeId: null });
      await record(tx, {
        order, objectType: 'payment', objectId: payment.id, action: 'kassa.order.payment.started',
        actor: input.actor ?? { type: 'system' }, data: { localId: payment.localId, provider: payment.provider, amount },
        topic: 'payment.created', payload: { provider: payment.provider, amount, currency: order.currency },
      });
      return payment;
    });
  }

  /**
   * The buyer (or an API client) switches an open order to another payment method: the open
   * attempts are canceled, the payment fee is recomputed for the new method, the total follows
   * and a new attempt is created for the new amount (payment-method-change.ts).
   */
  async changePaymentMethod(orderId: string, input: { provider: string; actor: Actor; country?: string | null }): Promise<PaymentMethodChangeResult> {
    return changePaymentMethod(this.deps, this, orderId, { provider: this.getProvider(input.provider), actor: input.actor, country: input.country });
  }

  /** What a method switch computes its fee on, for showing each method's fee before the switch. */
  async quotePaymentMethodChange(orderId: string): Promise<PaymentMethodQuote> {
    if (!isUuid(orderId)) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    return quotePaymentMethodChange(this.deps.dataSource.manager, orderId);
  }

  /**
   * pretix's confirm(), in one transaction with one commit. Step 1 locks the order row and stores
   * the payment as confirmed (a compare-and-set that is also the payment's row lock; a second call
   * finds it confirmed and returns quietly). Then a SAVEPOINT, and step 2 (order row locked) decides what happens to the order. If
   * step 2 fails, only the work after the savepoint is rolled back: the confirmation still commits,
   * so received money is never lost, and the error is rethrown after the commit.
   */
  async confirmPayment(paymentId: string, opts: ConfirmOptions): Promise<ConfirmResult> {
    return this.confirm(paymentId, opts, undefined);
  }

  /** Confirmation by an organizer or the API: only from created or pending (pretix's API guard). */
  async manualConfirm(paymentId: string, opts: ConfirmOptions): Promise<ConfirmResult> {
    return this.confirm(paymentId, opts, manuallyConfirmable);
  }

  private async confirm(paymentId: string, opts: ConfirmOptions, onlyFrom: readonly PaymentState[] | undefined): Promise<ConfirmResult> {
    if (!isUuid(paymentId)) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
    const outcome = await withTransaction(this.deps.dataSource, (tx) => this.confirmSteps(tx, paymentId, opts, onlyFrom));
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  }

  /**
   * confirmPayment inside the caller's transaction, for core's batched writers (the charge run
   * applies many outcomes in one transaction). Unlike confirmPayment, an error of the order step
   * is thrown without keeping the payment's confirmation: the caller rolls back and confirms that
   * payment alone with confirmPayment (a batch saves the savepoint's round trip per payment).
   */
  async confirmPaymentWithin(tx: EntityManager, paymentId: string, opts: ConfirmOptions): Promise<ConfirmResult> {
    if (!isUuid(paymentId)) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
    const outcome = await this.confirmSteps(tx, paymentId, opts, undefined, false);
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  }

  private async confirmSteps(
    tx: EntityManager, paymentId: string, opts: ConfirmOptions, onlyFrom: readonly PaymentState[] | undefined, savepoint = true,
  ): Promise<{ result: ConfirmResult } | { error: unknown }> {
    const step1 = await confirmPaymentRow(tx, paymentId, opts, onlyFrom, opts.paymentDate ?? this.deps.clock.now());
    if (step1.already) return { result: { kind: 'already_confirmed', payment: step1.payment } };
    if (!savepoint) return { result: await this.decideOrder(tx, step1.payment, opts) };
    return withSavepoint(tx, 'kassa_order_step', () => this.decideOrder(tx, step1.payment, opts));
  }

  /** Step 2 of confirm: under the order lock, what the confirmed payment does to the order. */
  private async decideOrder(tx: EntityManager, payment: OrderPayment, opts: ConfirmOptions): Promise<ConfirmResult> {
    const paidData = { provider: payment.provider, paymentId: payment.id, date: payment.paymentDate?.toISOString() ?? null, force: opts.force ?? false };
    // The common case (pending, now covered) is decided and written by this one statement.
    const { order, sums, paid } = await lockOrderAndPayIfCovered(tx, payment.orderId, opts.actor, paidData, this.deps.clock.now());
    if (!paid) {
      if (!orderMachine.is('payable', order.status)) {
        if (orderMachine.is('canceled', order.status)) await recordPaymentOnClosedOrder(tx, order, payment, opts.actor, null);
        if (sums.isOverpaid) await recordOverpaid(tx, order, sums, opts.actor);
        return { kind: 'order_unchanged', payment, order: sums };
      }
      if (sums.paymentRefundSum < order.total) {
        if (orderMachine.is('expired', order.status)) await recordPaymentOnClosedOrder(tx, order, payment, opts.actor, null);
        return { kind: 'partially_paid', payment, order: sums };
      }
      if (!opts.force) {
        // pretix's _can_be_paid under the lock: the last date of payments, late payments, quota.
        const event = await readEvent(tx, order.eventId);
        const refusal = await paymentRefusal(tx, { order, event, now: this.deps.clock.now(), quota: 'lock' });
        const reason = refusal?.reason;
        if (reason) {
          await record(tx, {
            order, objectType: 'order', objectId: order.id, action: 'kassa.order.quotaexceeded', actor: opts.actor,
            data: { message: reason, paymentId: payment.id }, topic: 'order.quota_exceeded', payload: { reason, paymentId: payment.id },
          });
          // A pending order past the last date of payments is not closed: order.quota_exceeded tells the organizer.
          if (orderMachine.is('expired', order.status)) await recordPaymentOnClosedOrder(tx, order, payment, opts.actor, reason);
          return { kind: 'quota_exceeded', payment, order: sums, reason };
        }
      }
      await changeOrderPrepared(tx, order, 'pay', { actor: opts.actor, data: paidData, payload: { total: order.total, currency: order.currency } });
    } else {
      // The statement moved it along `pay`; `order` is as read before that.
      order.status = orderMachine.transition(order.status, 'pay').to;
    }
    // Paid for exactly the total, no flag can be set; only an over-payment needs the flags re-read.
    const after = sums.paymentRefundSum > order.total
      ? await loadOrderSums(tx, order.id)
      : { ...sums, status: order.status, isOverpaid: false, isUnderpaid: false, isPendingWithFullPayment: false };
    if (after.isOverpaid) await recordOverpaid(tx, order, after, opts.actor);
    return { kind: 'order_paid', payment, order: after };
  }

  /** The provider reports the money is on its way. Repeating it is a no-op. */
  async pendPayment(paymentId: string, opts: { actor: Actor; info?: Record<string, unknown> }): Promise<OrderPayment> {
    return withTransaction(this.deps.dataSource, (tx) => this.pendPaymentWithin(tx, paymentId, opts));
  }

  /** pendPayment inside the caller's transaction (core's batched writers). */
  async pendPaymentWithin(tx: EntityManager, paymentId: string, opts: { actor: Actor; info?: Record<string, unknown> }): Promise<OrderPayment> {
    const { payment, order } = await lockPaymentWithOrder(tx, paymentId);
    if (paymentMachine.is('inTransit', payment.state)) return payment;
    await changePayment(tx, order, payment, 'pend', {
      actor: opts.actor, data: { localId: payment.localId, provider: payment.provider }, payload: { provider: payment.provider },
    }, opts.info ? { info: { ...payment.info, ...opts.info } } : {});
    return payment;
  }

  /**
   * Lowers the amount of an open (created or pending) payment, e.g. to what a partial capture
   * actually collected, before it is confirmed. Never raises it, never touches a confirmed payment:
   * then it answers `changed: false` and writes nothing. Logged with the old and new amount.
   */
  async reduceOpenAmount(paymentId: string, amount: number, opts: { actor: Actor; reason?: string }): Promise<{ changed: boolean; payment: OrderPayment }> {
    assertNonNegative(amount, 'amount');
    return withTransaction(this.deps.dataSource, async (tx) => {
      const { payment, order } = await lockPaymentWithOrder(tx, paymentId);
      if (amount > payment.amount) {
        throw new KassaError('PAYMENT_AMOUNT_INVALID', { amount, reason: `it may only be lowered (now ${payment.amount})` });
      }
      if (!paymentMachine.is('open', payment.state) || amount === payment.amount) return { changed: false, payment };
      const previous = payment.amount;
      await setPaymentAmount(tx, payment.id, amount);
      payment.amount = amount;
      await record(tx, {
        order, objectType: 'payment', objectId: payment.id, action: 'kassa.order.payment.amount_reduced', actor: opts.actor,
        data: { localId: payment.localId, provider: payment.provider, from: previous, to: amount, reason: opts.reason ?? null },
      });
      return { changed: true, payment };
    });
  }

  /**
   * pretix's fail(): a no-op (changed: false) on a payment that is already confirmed, failed or
   * refunded, because a late failure report must never undo received money.
   */
  async failPayment(paymentId: string, opts: { actor: Actor; info?: Record<string, unknown>; message?: string }): Promise<{ changed: boolean; payment: OrderPayment }> {
    return withTransaction(this.deps.dataSource, async (tx) => {
      const { payment, order } = await lockPaymentWithOrder(tx, paymentId);
      if (paymentMachine.is('settled', payment.state)) return { changed: false, payment };
      const wasAbandoned = paymentMachine.is('abandoned', payment.state);
      const current = await readOrderStatus(tx, order.id);
      // pretix's fail(): the buyer hears of it only while the order still waits for money, and not
      // for an attempt that was already abandoned (e.g. canceled with its order).
      const notifyBuyer = !wasAbandoned && current !== undefined && orderMachine.is('awaitingPayment', current);
      await changePayment(tx, order, payment, 'fail', {
        actor: opts.actor, data: { localId: payment.localId, provider: payment.provider, message: opts.message ?? null },
        payload: { provider: payment.provider, message: opts.message ?? null, notifyBuyer },
      }, opts.info ? { info: { ...payment.info, ...opts.info } } : {});
      return { changed: true, payment };
    });
  }

  /**
   * Cancels a created or pending attempt. The provider is told first (outside any transaction);
   * a pending payment only when its provider allows aborting.
   */
  async cancelPayment(paymentId: string, actor: Actor): Promise<OrderPayment> {
    const { payment, order, event } = await this.loadPayment(paymentId);
    paymentMachine.transition(payment.state, 'cancel');
    const provider = this.deps.providers.has(payment.provider) ? this.deps.providers.get(payment.provider) : null;
    if (paymentMachine.is('inTransit', payment.state) && !provider?.abortPendingAllowed) {
      throw new KassaError('PAYMENT_ABORT_NOT_ALLOWED', { id: payment.id, provider: payment.provider });
    }
    if (provider) {
      try {
        await provider.cancelPayment(await this.deps.providerContext(event, provider.identifier), { order, payment });
      } catch (err) {
        await withTransaction(this.deps.dataSource, (tx) => record(tx, {
          order, objectType: 'payment', objectId: payment.id, action: 'kassa.order.payment.canceled.failed', actor,
          data: { localId: payment.localId, provider: payment.provider, error: errorMessage(err) },
        }));
        throw providerError(provider, err);
      }
    }
    return withTransaction(this.deps.dataSource, async (tx) => {
      const locked = await lockPayment(tx, paymentId);
      await changePayment(tx, order, locked, 'cancel', {
        actor, data: { localId: locked.localId, provider: locked.provider, providerNotified: provider !== null },
        payload: { provider: locked.provider },
      });
      return locked;
    });
  }

  /**
   * The checkout orchestrator: marks the attempt initiated (a second call is refused, so a double
   * click cannot charge twice), calls the provider outside any transaction and applies its outcome.
   */
  async executePayment(paymentId: string, session: Record<string, unknown>, known: ExecuteKnown = {}): Promise<ExecuteResult> {
    // The caller's rows are only a read saved: markPaymentInitiated below re-checks the payment's
    // state and its order's in the database.
    const loaded = known.loaded?.payment.id === paymentId && known.loaded.order.id === known.loaded.payment.orderId
      && known.loaded.event.id === known.loaded.order.eventId ? known.loaded : await this.loadPayment(paymentId);
    const { payment, order, event } = loaded;
    const provider = this.getProvider(payment.provider);
    // Built before the attempt is marked initiated: a settings problem must not strand the payment.
    const ctx = known.context && known.context.event.id === event.id && known.contextProvider === provider.identifier
      ? Object.freeze({ ...known.context, event })
      : await this.deps.providerContext(event, provider.identifier);
    // Before any money moves: can this order still end up paid? (order-payability.ts; for a pending
    // order without a last date this reads nothing.) The status is re-checked by the UPDATE below.
    await assertPayable(this.deps.dataSource.manager, { order, event, now: this.deps.clock.now(), quota: 'read' });
    // One UPDATE outside any transaction: it refuses a payment that is not created, already initiated
    // or whose order is not open, so a double click cannot charge twice.
    // A first payment placeOrder wrote already initiated for this caller (startPayment) skips it.
    if (!takeExecutionReservation(payment)) await markPaymentInitiated(this.deps.dataSource.manager, paymentId);
    payment.processInitiated = true;
    const actor: Actor = { type: 'provider', id: provider.identifier };
    let outcome: PaymentOutcome;
    try {
      outcome = await provider.executePayment(ctx, { order, payment, session });
    } catch (err) {
      await this.failPayment(paymentId, { actor, message: errorMessage(err), info: { error: errorMessage(err) } });
      throw providerError(provider, err);
    }
    switch (outcome.kind) {
      case 'confirmed':
        return { outcome, confirmation: await this.confirmPayment(paymentId, { actor, info: outcome.info }) };
      case 'pending':
        // A fresh attempt goes created → pending in one statement; anything else takes the general path.
        if (!await pendCreatedPayment(this.deps.dataSource.manager, payment, order, actor, outcome.info)) {
          await this.pendPayment(paymentId, { actor, info: outcome.info });
        }
        return { outcome };
      case 'requires_action':
        await this.recordActionRequired(paymentId, outcome.redirectUrl, outcome.info ?? {}, actor, known.offSession === true);
        return { outcome };
      case 'declined':
      case 'failed':
        await this.failPayment(paymentId, {
          actor, message: outcome.message,
          info: { ...outcome.info, error: { kind: outcome.kind, message: outcome.message, code: outcome.code ?? null } },
        });
        return { outcome };
    }
  }

  /**
   * `offSession` travels in the event: the buyer email handler sends at once for off-session
   * payments and otherwise only after a delay, if the payment still waits for the buyer then.
   */
  private async recordActionRequired(paymentId: string, redirectUrl: string, info: Record<string, unknown>, actor: Actor, offSession: boolean): Promise<void> {
    await withTransaction(this.deps.dataSource, async (tx) => {
      const { payment, order } = await lockPaymentWithOrder(tx, paymentId);
      await setPaymentInfo(tx, paymentId, { ...payment.info, ...info, redirectUrl });
      await record(tx, {
        order, objectType: 'payment', objectId: payment.id, action: 'kassa.order.payment.action_required', actor,
        data: { localId: payment.localId, provider: payment.provider, redirectUrl },
        topic: 'payment.action_required', payload: { provider: payment.provider, redirectUrl, offSession },
      });
    });
  }

  /** Reads a payment with its order and event (no lock; for provider calls outside transactions). */
  async loadPayment(paymentId: string): Promise<{ payment: OrderPayment; order: Order; event: Event }> {
    return loadPaymentOrderEvent(this.deps.dataSource.manager, paymentId);
  }

  private assertKnownProvider(id: unknown): asserts id is string {
    if (typeof id !== 'string' || !this.deps.providers.has(id)) throw new KassaError('PAYMENT_PROVIDER_UNKNOWN', { provider: String(id) });
  }

  private getProvider(id: string): BasePaymentProvider {
    this.assertKnownProvider(id);
    return this.deps.providers.get(id);
  }
}

/** Inserts a `created` payment with the next local id; the caller holds the order lock (or is creating the order). */
export async function insertPayment(
  tx: EntityManager, order: Order, input: { provider: string; amount: number; feeId: string | null; first?: boolean },
): Promise<OrderPayment> {
  return insertPaymentRow(tx, order, input);
}

/** Refuses anything but a positive safe integer amount in a known currency. */
export function assertPositiveMoney(m: Money, field: string): void {
  if (typeof m !== 'object' || m === null) throw new KassaError('VALIDATION_FAILED', { detail: `${field} must be { amount, currency }` });
  assertNonNegative(m.amount, field);
  assertCurrency(m.currency);
  if (m.amount === 0) throw new KassaError('PAYMENT_AMOUNT_INVALID', { amount: 0, reason: `${field} must be positive` });
}

/**
 * Money arrived for an order that stays canceled or expired (pretix's "payment for a canceled
 * order" / late payment without quota): the organizer must decide, so they are notified.
 */
async function recordPaymentOnClosedOrder(tx: EntityManager, order: Order, payment: OrderPayment, actor: Actor, reason: string | null): Promise<void> {
  await record(tx, {
    order, objectType: 'payment', objectId: payment.id, action: 'kassa.order.payment.on_closed_order', actor,
    data: { localId: payment.localId, provider: payment.provider, status: order.status, reason },
    topic: 'payment.on_closed_order',
    payload: { provider: payment.provider, amount: payment.amount, currency: payment.currency, orderStatus: order.status, reason },
  });
}

async function recordOverpaid(tx: EntityManager, order: OrderRef, sums: OrderSums, actor: Actor): Promise<void> {
  await record(tx, {
    order, objectType: 'order', objectId: order.id, action: 'kassa.order.overpaid', actor,
    data: { pendingSum: sums.pendingSum, status: sums.status }, topic: 'order.overpaid',
    payload: { owedBack: -sums.pendingSum, currency: sums.currency, status: sums.status },
  });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A provider's exception becomes PROVIDER_ERROR; a catalogued error passes through unchanged. */
export function providerError(provider: BasePaymentProvider, err: unknown): KassaError {
  if (err instanceof KassaError) return err;
  return new KassaError('PROVIDER_ERROR', { provider: provider.identifier, detail: errorMessage(err) }, { cause: err });
}
