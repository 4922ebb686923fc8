import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import { assertSameCurrency, money, type Money } from '../money/money';
import { Order } from '../order/order.entity';
import { newPaymentDeadline } from '../order/order-payability';
import { orderMachine, type OrderStatus } from '../order/order.machine';
import type { CoreDeps } from '../order/service-deps';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine } from '../payment/payment.machine';
import { findOrder, findPayment, findRefund, getEvent, getOrder } from '../persistence/reads';
import { loadOrderSums, lockOrderWithSums } from '../persistence/order-sums';
import { findRefundablePayments, findRefundByExternalId, insertRefundRow, lastRefundId, refundedOn } from '../persistence/refund-rows';
import { isUuid, lockOrder, lockPayment, lockRefund } from '../persistence/rows';
import { changeOrder, changePayment, changeRefund, record } from '../persistence/state-change';
import { withTransaction } from '../persistence/transaction';
import { assertPositiveMoney, errorMessage } from '../payment/payment.service';
import type { RefundOutcome } from '../provider/provider-types';
import { OrderRefund } from './order-refund.entity';
import { proposeRefundAmounts } from './refund-proposals';
import { refundMachine, type RefundEvent, type RefundSource } from './refund.machine';

export { lastRefundId };

export interface CreateRefundInput {
  paymentId: string;
  amount: Money;
  source: Exclude<RefundSource, 'external'>;
  comment?: string;
  /** The payment's provider (default) or "manual": a refund the organizer makes by hand, never executed here. */
  provider?: string;
  /** Call the provider's executeRefund right away (default true; ignored for manual refunds). */
  execute?: boolean;
  /**
   * The newest refund of the order when the organizer's form was built (null: none), as pretix's
   * last_known_refund_id. Checked under the order lock: if another refund was made meanwhile the
   * form is stale and REFUND_STALE_FORM refuses it with nothing written. Omitted: not checked.
   */
  expectLastRefundId?: string | null;
  /** What happens to the order once the refund is under way (see RefundOrderAction); default `pending`. */
  orderAction?: RefundOrderAction;
  actor: Actor;
}

/**
 * pretix's choices for the order when a refund leaves money owed:
 *   keep_paid — the order stays as it is; refused up front when a paid order would be owed money;
 *   pending   — a paid order that is now owed money goes back to pending with a new payment
 *               deadline (the default; a refund that leaves nothing owed changes nothing);
 *   cancel    — the order is canceled after the refund (what is still held is flagged).
 * Applied once the refund counts (created, in transit or done); a refund that fails changes nothing.
 */
export const refundOrderActions = ['keep_paid', 'pending', 'cancel'] as const;
export type RefundOrderAction = (typeof refundOrderActions)[number];

export interface RefundResult {
  refund: OrderRefund;
  /** The provider's answer when the refund was executed. */
  outcome?: RefundOutcome;
  /** The order's status after the refund and its order action. */
  orderStatus?: OrderStatus;
}

/** Cancels an order; wired by createKassaCore to the order service (processExternalRefund's "cancel"). */
export interface OrderCanceler {
  cancelOrder(orderId: string, opts: { actor: Actor; notifyBuyer?: boolean }): Promise<unknown>;
}

export const MANUAL_PROVIDER = 'manual';

/** Refunds: one row per attempt, after pretix §1.3. Created, in-transit and done refunds count as refunded money. */
export class RefundService {
  constructor(private readonly deps: CoreDeps, private readonly orders: OrderCanceler) {}

  /**
   * Stores a refund (state created) in one transaction, never more than the payment has left, then
   * executes it with the provider outside any transaction and applies the outcome.
   */
  async createRefund(orderId: string, input: CreateRefundInput): Promise<RefundResult> {
    if (input.source !== 'buyer' && input.source !== 'admin') throw new KassaError('REFUND_SOURCE_INVALID', { source: String(input.source) });
    assertPositiveMoney(input.amount, 'amount');
    const orderAction = input.orderAction ?? 'pending';
    if (!refundOrderActions.includes(orderAction)) {
      throw new KassaError('VALIDATION_FAILED', { field: 'orderAction', detail: `orderAction must be one of ${refundOrderActions.join(', ')}` });
    }
    const payment = isUuid(input.paymentId) ? await findPayment(this.deps.dataSource.manager, input.paymentId, orderId) : null;
    if (!payment) throw new KassaError('NOT_FOUND', { entity: `Payment ${input.paymentId} of order ${orderId}` });
    const providerId = input.provider ?? payment.provider;
    const manual = providerId === MANUAL_PROVIDER;
    if (providerId !== payment.provider && !manual) {
      throw new KassaError('REFUND_PROVIDER_INVALID', { payment: payment.id, expected: payment.provider, provider: providerId });
    }
    const provider = manual ? null : this.provider(providerId);
    if (provider) {
      const full = input.amount.amount === payment.amount;
      if (full && !provider.paymentRefundSupported(payment)) throw new KassaError('REFUND_NOT_SUPPORTED', { provider: providerId, payment: payment.id });
      if (!full && !provider.paymentPartialRefundSupported(payment)) throw new KassaError('REFUND_PARTIAL_NOT_SUPPORTED', { provider: providerId, payment: payment.id });
    }

    const { refund, order } = await withTransaction(this.deps.dataSource, async (tx) => {
      const { order, sums } = await lockOrderWithSums(tx, orderId);
      if (input.expectLastRefundId !== undefined && (await lastRefundId(tx, order.id)) !== input.expectLastRefundId) {
        throw new KassaError('REFUND_STALE_FORM', { code: order.code, field: 'lastKnownRefundId' });
      }
      const locked = await lockPayment(tx, payment.id);
      assertSameCurrency(input.amount.currency, locked.currency);
      if (!paymentMachine.is('refundable', locked.state)) throw new KassaError('REFUND_PAYMENT_NOT_CONFIRMED', { payment: locked.id, state: locked.state });
      const available = locked.amount - (await refundedOn(tx, locked.id));
      if (input.amount.amount > available) {
        throw new KassaError('REFUND_AMOUNT_EXCEEDS_AVAILABLE', { amount: input.amount.amount, available, payment: locked.id });
      }
      // "Keep paid" only where the payments still cover the order: refused before anything is written.
      const owedAfter = sums.pendingSum + input.amount.amount;
      if (orderAction === 'keep_paid' && orderMachine.is('paid', order.status) && owedAfter > 0) {
        throw new KassaError('REFUND_ORDER_ACTION_INVALID', { code: order.code, owed: owedAfter, field: 'orderAction' });
      }
      const refund = await insertRefund(tx, order, {
        state: 'created', source: input.source, amount: input.amount.amount, provider: providerId, paymentId: locked.id, comment: input.comment ?? '',
      });
      await record(tx, {
        order, objectType: 'refund', objectId: refund.id, action: 'kassa.order.refund.created', actor: input.actor,
        data: { localId: refund.localId, provider: providerId, amount: refund.amount, source: input.source, paymentId: locked.id },
        topic: 'refund.created', payload: { provider: providerId, amount: refund.amount, currency: refund.currency, source: input.source },
      });
      // A created refund counts: the payment is refunded as soon as its refunds cover it.
      await syncPaymentRefunded(tx, order, locked.id, input.actor);
      return { refund, order };
    });
    if (!provider || input.execute === false) {
      return { refund, orderStatus: await this.applyOrderAction(order.id, orderAction, refund, input.actor) };
    }

    const event = await getEvent(this.deps.dataSource.manager, order.eventId);
    let outcome: RefundOutcome;
    try {
      outcome = await provider.executeRefund(await this.deps.providerContext(event, providerId), { order, payment, refund });
    } catch (err) {
      outcome = { kind: 'failed', message: errorMessage(err), ...(err instanceof KassaError ? { code: err.code } : {}) };
    }
    const actor: Actor = { type: 'provider', id: providerId };
    const info = outcome.info;
    switch (outcome.kind) {
      case 'done': {
        const done = await this.markRefundDone(refund.id, { actor, info, externalId: outcome.externalId });
        return { outcome, refund: done, orderStatus: await this.applyOrderAction(order.id, orderAction, done, input.actor) };
      }
      case 'transit': {
        const sent = await this.markRefundTransit(refund.id, { actor, info, externalId: outcome.externalId });
        return { outcome, refund: sent, orderStatus: await this.applyOrderAction(order.id, orderAction, sent, input.actor) };
      }
      case 'failed':
        // Nothing went back, so nothing changes for the order.
        return { outcome, refund: await this.markRefundFailed(refund.id, { actor, info, message: outcome.message }) };
    }
  }

  /**
   * The organizer's choice for the order once a refund counts (pretix's refund flows): cancel it,
   * or, for a paid order that is now owed money, back to pending with a new payment deadline.
   * A refund that leaves nothing owed never reopens the order. Pending and expired orders keep
   * their status: reviving an expired order would bypass its quota check.
   */
  private async applyOrderAction(orderId: string, action: RefundOrderAction, refund: OrderRefund, actor: Actor): Promise<OrderStatus> {
    if (action === 'cancel') {
      const current = await getOrder(this.deps.dataSource.manager, orderId);
      if (orderMachine.is('canceled', current.status)) return current.status;
      // Canceling tells providers about open payments, which must happen outside a transaction.
      await this.orders.cancelOrder(orderId, { actor });
      return (await getOrder(this.deps.dataSource.manager, orderId)).status;
    }
    return withTransaction(this.deps.dataSource, async (tx) => {
      const { order, sums } = await lockOrderWithSums(tx, orderId);
      if (!orderMachine.is('paid', order.status) || sums.pendingSum <= 0) return order.status;
      const event = await getEvent(tx, order.eventId);
      const expires = newPaymentDeadline(event, this.deps.clock.now());
      const from = order.status;
      await changeOrder(tx, order, 'unpay', {
        actor, data: { from, expires: expires.toISOString(), pendingSum: sums.pendingSum, refundId: refund.id, refundLocalId: refund.localId },
        payload: { from, expires: expires.toISOString(), refundId: refund.id },
      }, { expires });
      return order.status;
    });
  }

  /** created/transit → done. Repeating it is a no-op. */
  async markRefundDone(refundId: string, opts: RefundUpdate): Promise<OrderRefund> {
    return this.move(refundId, 'done', opts, (r) => refundMachine.is('done', r.state));
  }

  /** created → transit: sent, not settled yet (still counts as refunded money). */
  async markRefundTransit(refundId: string, opts: RefundUpdate): Promise<OrderRefund> {
    return this.move(refundId, 'send', opts, (r) => refundMachine.is('inTransit', r.state));
  }

  /** created/transit/done → failed. A refunded payment its refunds no longer cover goes back to confirmed. */
  async markRefundFailed(refundId: string, opts: RefundUpdate & { message?: string }): Promise<OrderRefund> {
    return this.move(refundId, 'fail', opts, () => false, { message: opts.message ?? null });
  }

  /** created/transit/external → canceled (e.g. a dispute won). */
  async markRefundCanceled(refundId: string, actor: Actor): Promise<OrderRefund> {
    return this.move(refundId, 'cancel', { actor }, () => false);
  }

  private async move(
    refundId: string, event: RefundEvent, opts: RefundUpdate,
    alreadyThere: (r: OrderRefund) => boolean, data: Record<string, unknown> = {},
  ): Promise<OrderRefund> {
    const found = isUuid(refundId) ? await findRefund(this.deps.dataSource.manager, refundId) : null;
    if (!found) throw new KassaError('NOT_FOUND', { entity: `Refund ${refundId}` });
    return withTransaction(this.deps.dataSource, async (tx) => {
      const order = await lockOrder(tx, found.orderId);
      const refund = await lockRefund(tx, refundId);
      if (alreadyThere(refund)) return refund;
      // The edge decides the action and topic (kassa.order.refund.done, refund.done, …).
      await changeRefund(tx, order, refund, event, {
        actor: opts.actor, data: { localId: refund.localId, provider: refund.provider, amount: refund.amount, ...data },
        payload: { provider: refund.provider, amount: refund.amount, currency: refund.currency, ...data },
      }, {
        ...(event === 'done' ? { executionDate: this.deps.clock.now() } : {}),
        ...(opts.info ? { info: { ...refund.info, ...opts.info } } : {}),
        ...(opts.externalId ? { externalId: opts.externalId } : {}),
      });
      await syncPaymentRefunded(tx, order, refund.paymentId, opts.actor);
      return refund;
    });
  }

  /**
   * A refund made outside Kassa (dashboard refund, lost dispute), reported by the provider. It waits
   * in state external for the organizer, except when it exactly cancels an overpayment (pretix
   * auto-processes that case). With an externalId a second report returns the first row unchanged.
   */
  async createExternalRefund(
    paymentId: string, input: { amount?: Money; externalId?: string; info?: Record<string, unknown>; comment?: string; actor?: Actor } = {},
  ): Promise<{ refund: OrderRefund; created: boolean }> {
    if (input.amount !== undefined) assertPositiveMoney(input.amount, 'amount');
    const payment = isUuid(paymentId) ? await findPayment(this.deps.dataSource.manager, paymentId) : null;
    if (!payment) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
    const actor = input.actor ?? { type: 'provider', id: payment.provider };
    return withTransaction(this.deps.dataSource, async (tx) => {
      const { order, sums: before } = await lockOrderWithSums(tx, payment.orderId);
      const locked = await lockPayment(tx, paymentId);
      if (input.externalId) {
        const existing = await findRefundByExternalId(tx, locked.provider, input.externalId);
        if (existing) return { refund: existing, created: false };
      }
      if (!paymentMachine.is('externallyRefundable', locked.state)) {
        throw new KassaError('REFUND_PAYMENT_NOT_CONFIRMED', { payment: locked.id, state: locked.state });
      }
      if (input.amount) assertSameCurrency(input.amount.currency, locked.currency);
      const amount = input.amount?.amount ?? locked.amount;
      const refund = await insertRefund(tx, order, {
        state: 'external', source: 'external', amount, provider: locked.provider, paymentId: locked.id,
        comment: input.comment ?? '', info: input.info ?? {}, externalId: input.externalId ?? null,
      });
      await record(tx, {
        order, objectType: 'refund', objectId: refund.id, action: 'kassa.order.refund.created.externally', actor,
        data: { localId: refund.localId, provider: refund.provider, amount, externalId: refund.externalId },
        topic: 'refund.external', payload: { provider: refund.provider, amount, currency: refund.currency, externalId: refund.externalId },
      });
      // External refunds are not counted yet, so this holds exactly when the refund returns an overpayment.
      if (before.pendingSum + amount === 0) {
        await changeRefund(tx, order, refund, 'process', {
          actor, data: { localId: refund.localId, provider: refund.provider, amount, automatic: true },
          payload: { provider: refund.provider, amount, currency: refund.currency, automatic: true },
        }, { executionDate: this.deps.clock.now() });
        await syncPaymentRefunded(tx, order, refund.paymentId, actor);
      }
      return { refund, created: true };
    });
  }

  /**
   * The organizer accepts an external refund: it becomes done, then the order is canceled
   * ("cancel"), or set back to pending with a new expiry unless it is still fully paid ("pending").
   */
  async processExternalRefund(refundId: string, input: { action: 'cancel' | 'pending'; actor: Actor }): Promise<OrderRefund> {
    const found = isUuid(refundId) ? await findRefund(this.deps.dataSource.manager, refundId) : null;
    if (!found) throw new KassaError('NOT_FOUND', { entity: `Refund ${refundId}` });
    if (input.action !== 'cancel' && input.action !== 'pending') throw new KassaError('VALIDATION_FAILED', { detail: `action must be cancel or pending, got ${String(input.action)}` });
    const { refund, order } = await withTransaction(this.deps.dataSource, async (tx) => {
      const order = await lockOrder(tx, found.orderId);
      const refund = await lockRefund(tx, refundId);
      if (!refundMachine.is('awaitingDecision', refund.state)) throw new KassaError('REFUND_NOT_EXTERNAL', { id: refund.id, state: refund.state });
      await changeRefund(tx, order, refund, 'process', {
        actor: input.actor, data: { localId: refund.localId, provider: refund.provider, amount: refund.amount, processed: input.action },
        payload: { provider: refund.provider, amount: refund.amount, currency: refund.currency, processed: input.action },
      }, { executionDate: this.deps.clock.now() });
      await syncPaymentRefunded(tx, order, refund.paymentId, input.actor);
      if (input.action === 'pending') await this.reopen(tx, order, input.actor);
      return { refund, order };
    });
    // Canceling tells providers about open payments, which must happen outside a transaction.
    // pretix's mark_order_refunded: canceled without the buyer email (the buyer made the refund happen).
    if (input.action === 'cancel' && !orderMachine.is('canceled', order.status)) await this.orders.cancelOrder(order.id, { actor: input.actor, notifyBuyer: false });
    return refund;
  }

  /** Back to pending with a new expiry, unless the order is paid and still fully covered. */
  private async reopen(tx: EntityManager, order: Order, actor: Actor): Promise<void> {
    const sums = await loadOrderSums(tx, order.id);
    if (orderMachine.is('canceled', order.status) || (orderMachine.is('paid', order.status) && sums.pendingSum <= 0)) return;
    const event = await getEvent(tx, order.eventId);
    const expires = newPaymentDeadline(event, this.deps.clock.now());
    const from = order.status;
    // A pending order gets a new deadline (extend); a paid or expired one goes back to pending (unpay).
    await changeOrder(tx, order, orderMachine.is('awaitingPayment', from) ? 'extend' : 'unpay', {
      actor, data: { from, expires: expires.toISOString(), pendingSum: sums.pendingSum }, payload: { from, expires: expires.toISOString() },
    }, { expires });
  }

  /** pretix §1.5: how to refund `amount` across the order's confirmed payments with automatic refunds. */
  async proposeRefunds(orderId: string, amount: Money): Promise<{ proposals: { payment: OrderPayment; amount: Money }[]; uncovered: number }> {
    assertPositiveMoney(amount, 'amount');
    const m = this.deps.dataSource.manager;
    const order = isUuid(orderId) ? await findOrder(m, orderId) : null;
    if (!order) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    assertSameCurrency(amount.currency, order.currency);
    const payments = await findRefundablePayments(m, orderId);
    const candidates = [];
    for (const p of payments) {
      if (!this.deps.providers.has(p.provider)) continue;
      const provider = this.deps.providers.get(p.provider);
      const full = provider.paymentRefundSupported(p);
      const partial = provider.paymentPartialRefundSupported(p);
      if (!full && !partial) continue;
      candidates.push({ paymentId: p.id, amount: p.amount, available: p.amount - (await refundedOn(m, p.id)), full, partial });
    }
    const { proposals, uncovered } = proposeRefundAmounts(amount.amount, candidates);
    const byId = new Map(payments.map((p) => [p.id, p]));
    return { proposals: proposals.map((p) => ({ payment: byId.get(p.paymentId) as OrderPayment, amount: money(p.amount, order.currency) })), uncovered };
  }

  private provider(id: string) {
    if (!this.deps.providers.has(id)) throw new KassaError('PAYMENT_PROVIDER_UNKNOWN', { provider: id });
    return this.deps.providers.get(id);
  }
}

export interface RefundUpdate {
  actor: Actor;
  info?: Record<string, unknown>;
  externalId?: string;
}

async function insertRefund(
  tx: EntityManager, order: Order,
  input: Pick<OrderRefund, 'state' | 'source' | 'amount' | 'provider' | 'paymentId' | 'comment'> & Partial<Pick<OrderRefund, 'info' | 'externalId'>>,
): Promise<OrderRefund> {
  return insertRefundRow(tx, order, input);
}

/**
 * Keeps the payment's state in line with its refunds that count (created, in transit, done:
 * pretix's refunded_amount): confirmed → refunded once they cover the amount, refunded →
 * confirmed when one of them failed or was canceled. Caller holds the order lock.
 */
async function syncPaymentRefunded(tx: EntityManager, order: Order, paymentId: string | null, actor: Actor): Promise<void> {
  if (!paymentId) return;
  const payment = await lockPayment(tx, paymentId);
  const refunded = await refundedOn(tx, paymentId);
  const event = paymentMachine.can(payment.state, 'refund') && refunded >= payment.amount ? 'refund' as const
    : paymentMachine.can(payment.state, 'unrefund') && refunded < payment.amount ? 'unrefund' as const : null;
  if (!event) return;
  await changePayment(tx, order, payment, event, {
    actor, data: { localId: payment.localId, provider: payment.provider, refunded },
    payload: { provider: payment.provider, amount: payment.amount, currency: payment.currency },
  });
}
