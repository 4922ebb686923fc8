import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import { assertCurrency, assertNonNegative, assertSameCurrency, money, type Money } from '../money/money';
import { OrderPayment } from '../payment/order-payment.entity';
import type { PaymentService } from '../payment/payment.service';
import type { RefundResult, RefundService } from '../refund/refund.service';
import { changeOrder, orderChangeFingerprint, type OrderChangeInput, type OrderChangeResult } from './order-change';
import { placeOrder, type PlacedOrder, type PlaceOrderInput } from './order-placement';
import { findOrder, getEvent, getOrder, orderExists, paymentsOf, refundsOf } from '../persistence/reads';
import { searchOrders, type OrderSearchQuery, type OrderSearchResult } from '../persistence/order-search';
import { loadOrderSums, lockOrderWithSums, type OrderSums } from '../persistence/order-sums';
import { expireDueOrders } from '../persistence/order-expiry';
import { reduceToCancellationFee } from '../persistence/order-fees';
import { shredOrderRows } from '../persistence/order-shred';
import { findOpenPayments } from '../persistence/payment-rows';
import { isUuid, lockOrder } from '../persistence/rows';
import { changeOrder as changeOrderState, edgeEffects, moveOrder, record } from '../persistence/state-change';
import { withTransaction } from '../persistence/transaction';
import { Order } from './order.entity';
import { orderMachine, type OrderEvent } from './order.machine';
import { livePositionProducts, reserveQuota } from '../persistence/quota-check';
import { newPaymentDeadline, paymentRefusal, type PaymentRefusal } from './order-payability';
import { MANUAL_PROVIDER } from '../refund/refund.service';
import type { CoreDeps } from './service-deps';
import { markOrderExpired, markOrderPending } from './order-status-marks';

export interface CancelOrderOptions {
  /** Keep this much (pretix's cancellation fee): the order stays paid, or pending if not covered. */
  cancellationFee?: Money;
  /** Refund what is owed back through providers that support it (pretix's try_auto_refund). */
  autoRefund?: boolean;
  /**
   * Email the buyer "order canceled" (default true). False where pretix cancels without email:
   * processing an external refund as "refunded" (mark_order_refunded).
   */
  notifyBuyer?: boolean;
  actor: Actor;
}

export interface CancelOrderResult {
  order: Order;
  summary: OrderSums;
  refunds: RefundResult[];
  /** Owed back but not refundable automatically; logged as kassa.order.refund.requested. */
  refundRequested: number;
  /** Open payments whose provider refused to cancel them. */
  paymentCancelFailures: { paymentId: string; error: string }[];
}

export interface MarkPaidOptions {
  /** Overbook: skip the quota check, late payments and the last date of payments (pretix's force). */
  force?: boolean;
  actor: Actor;
}

export interface MarkPaidResult {
  order: Order;
  summary: OrderSums;
  /** A manual payment booked for what was still owed (pretix's mark_paid does the same). */
  payment: OrderPayment | null;
  /** Forced past a quota that had no room left: the event is overbooked by this order. */
  overbooked: boolean;
}

/** Orders: placing, reading sums, expiring, extending, canceling and shredding (pretix §1.1). */
export class OrderService {
  constructor(private readonly deps: CoreDeps, private readonly payments: PaymentService, private readonly refunds: RefundService) {}

  /** See order-placement.ts. */
  placeOrder(input: PlaceOrderInput): Promise<PlacedOrder> {
    return placeOrder(this.deps, input);
  }

  /**
   * pretix's order change: cancel positions, change their price or product, add positions, within
   * quota; the total, the open payment fee and the paid state follow (order-change.ts).
   */
  changeOrder(orderId: string, input: OrderChangeInput): Promise<OrderChangeResult> {
    return changeOrder(this.deps, this.payments, orderId, input);
  }

  /** What a change form carries so that a change prepared on an older state of the order is refused. */
  changeFingerprint(orderId: string): Promise<string> {
    if (!isUuid(orderId)) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    return orderChangeFingerprint(this.deps.dataSource.manager, orderId);
  }

  /** The order's sums and reconciliation flags (pretix §1.4). */
  getSummary(orderId: string): Promise<OrderSums> {
    if (!isUuid(orderId)) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    return loadOrderSums(this.deps.dataSource.manager, orderId);
  }

  /**
   * Whether a buyer may start a payment for the order now, and why not (order-payability.ts, the
   * one place that decides it). Every route that starts a payment asks this before money moves.
   * `owed: false` leaves out "nothing is owed": whether the order itself could be paid (the
   * organizer's view of a fully paid order that is not marked paid).
   */
  async paymentRefusal(orderId: string, opts: { owed?: boolean } = {}): Promise<PaymentRefusal | null> {
    const m = this.deps.dataSource.manager;
    const order = isUuid(orderId) ? await findOrder(m, orderId) : null;
    if (!order) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    const [event, sums] = await Promise.all([getEvent(m, order.eventId), loadOrderSums(m, orderId)]);
    return paymentRefusal(m, { order, event, now: this.deps.clock.now(), quota: 'read', ...(opts.owed === false ? {} : { pendingSum: sums.pendingSum }) });
  }

  /** paymentRefusal as an error: ORDER_NOT_PAYABLE with the reason. */
  async assertPayable(orderId: string): Promise<void> {
    const refusal = await this.paymentRefusal(orderId);
    if (refusal) {
      const order = await getOrder(this.deps.dataSource.manager, orderId);
      throw new KassaError('ORDER_NOT_PAYABLE', { code: order.code, reason: refusal.reason });
    }
  }

  /**
   * pretix's "mark as paid" for a pending or expired order. What is still owed is booked as a
   * confirmed manual payment (the money the organizer says arrived); an order whose payments
   * already cover it (a late payment that found no quota, money after the last date of payments)
   * is marked paid directly. Without force the same rules as a late payment apply (quota, late
   * payments, last date); with force they are skipped and the quota may be overbooked, which the
   * log entry records.
   */
  async markPaid(orderId: string, opts: MarkPaidOptions): Promise<MarkPaidResult> {
    const m = this.deps.dataSource.manager;
    const current = isUuid(orderId) ? await findOrder(m, orderId) : null;
    if (!current) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    orderMachine.transition(current.status, 'mark_paid');
    const owed = (await loadOrderSums(m, orderId)).pendingSum;
    if (owed > 0) {
      const event = await getEvent(m, current.eventId);
      const now = this.deps.clock.now();
      // Without force, refused before a payment is booked; with force, known up front for the log.
      const refusal = await paymentRefusal(m, { order: current, event, now, quota: 'read' });
      if (refusal && !opts.force) throw new KassaError('ORDER_MARK_PAID_REFUSED', { code: current.code, reason: `${refusal.reason}; mark it paid with force to overbook` });
      // Booked through the payment service, so it is confirmed exactly as any other payment.
      const payment = await this.payments.createPayment(orderId, { provider: MANUAL_PROVIDER, amount: money(owed, current.currency), actor: opts.actor, force: opts.force, reuseOpen: true });
      const result = await this.payments.manualConfirm(payment.id, { actor: opts.actor, force: opts.force, info: { markedPaid: true } });
      // A second click found the payment the first one booked: nothing more to do.
      if (result.kind === 'already_confirmed') {
        return { order: await getOrder(m, orderId), summary: await loadOrderSums(m, orderId), payment: result.payment, overbooked: false };
      }
      // The quota went between the look and the lock: the money is booked and flagged, as for a late payment.
      if (result.kind === 'quota_exceeded') throw new KassaError('ORDER_MARK_PAID_REFUSED', { code: current.code, reason: `${result.reason}; the payment is recorded, mark it paid with force to overbook` });
      const overbooked = refusal?.code === 'quota_gone' && result.kind === 'order_paid';
      if (overbooked) {
        await withTransaction(this.deps.dataSource, (tx) => record(tx, {
          order: current, objectType: 'order', objectId: current.id, action: 'kassa.order.overbooked', actor: opts.actor, data: { reason: refusal.reason },
        }));
      }
      const order = await getOrder(m, orderId);
      return { order, summary: await loadOrderSums(m, orderId), payment: result.payment, overbooked };
    }
    const overbooked = await withTransaction(this.deps.dataSource, async (tx) => {
      const { order, sums } = await lockOrderWithSums(tx, orderId);
      orderMachine.transition(order.status, 'mark_paid');
      if (sums.pendingSum > 0) throw new KassaError('ORDER_MARK_PAID_REFUSED', { code: order.code, reason: 'a payment changed meanwhile; reload and try again' });
      const event = await getEvent(tx, order.eventId);
      const now = this.deps.clock.now();
      // Without force the order must pass pretix's _can_be_paid, quota reserved under the lock.
      const refusal = await paymentRefusal(tx, { order, event, now, quota: opts.force ? 'read' : 'lock' });
      if (refusal && !opts.force) throw new KassaError('ORDER_MARK_PAID_REFUSED', { code: order.code, reason: `${refusal.reason}; mark it paid with force to overbook` });
      const from = order.status;
      const overbooked = refusal?.code === 'quota_gone';
      await changeOrderState(tx, order, 'mark_paid', {
        actor: opts.actor, data: { from, force: opts.force ?? false, markedPaid: true, overbooked, overridden: refusal?.code ?? null },
        payload: { total: order.total, currency: order.currency, force: opts.force ?? false },
      });
      if (overbooked) {
        await record(tx, {
          order, objectType: 'order', objectId: order.id, action: 'kassa.order.overbooked', actor: opts.actor,
          data: { reason: refusal?.reason ?? null },
        });
      }
      return overbooked;
    });
    return { order: await getOrder(m, orderId), summary: await loadOrderSums(m, orderId), payment: null, overbooked };
  }

  /** The control panel's order list, filterable by status, provider and the reconciliation flags. */
  search(query: OrderSearchQuery): Promise<OrderSearchResult> {
    if (!isUuid(query.organizerId)) throw new KassaError('VALIDATION_FAILED', { detail: 'organizerId must be a uuid' });
    return searchOrders(this.deps.dataSource.manager, query);
  }

  /**
   * Expires pending orders whose deadline passed before `now`, in one batch. Each row is moved by
   * compare-and-set; rows locked by a concurrent payment are skipped and picked up next run.
   * Orders kept pending by a cancellation fee do not expire (as in pretix). Returns how many expired.
   */
  async expireOrders(now: Date = this.deps.clock.now(), batchSize = 500): Promise<number> {
    return withTransaction(this.deps.dataSource, (tx) => expireDueOrders(tx, now, batchSize));
  }

  /** A new deadline. An expired order comes back to pending only while quota allows, unless forced. */
  async extendOrder(orderId: string, newExpires: Date, opts: { force?: boolean; actor: Actor }): Promise<Order> {
    if (!(newExpires instanceof Date) || Number.isNaN(newExpires.getTime()) || newExpires <= this.deps.clock.now()) {
      throw new KassaError('ORDER_EXPIRY_INVALID', { expires: String(newExpires instanceof Date ? newExpires.toISOString() : newExpires) });
    }
    return withTransaction(this.deps.dataSource, async (tx) => {
      const order = await lockOrder(tx, orderId);
      const from = order.status;
      orderMachine.transition(from, 'extend');
      if (orderMachine.is('expired', from) && !opts.force) await reserveQuota(tx, await livePositionProducts(tx, order.id));
      await changeOrderState(tx, order, 'extend', {
        actor: opts.actor, data: { from, expires: newExpires.toISOString(), force: opts.force ?? false },
        payload: { from, expires: newExpires.toISOString() },
      }, { expires: newExpires });
      return order;
    });
  }

  /** pretix's mark_pending: a paid order is marked unpaid (order-status-marks.ts). */
  markPending(orderId: string, actor: Actor): Promise<Order> {
    return markOrderPending(this.deps, orderId, actor);
  }

  /** pretix's mark_expired: a pending order expires now (order-status-marks.ts). */
  markExpired(orderId: string, actor: Actor): Promise<Order> {
    return markOrderExpired(this.deps, orderId, actor);
  }

  /**
   * pretix's _cancel_order: open payments are canceled through their providers first (outside any
   * transaction; a refusal is recorded, not fatal), then the order is canceled, or with a
   * cancellation fee reduced to that fee and kept paid or pending. With autoRefund, what is owed
   * back is refunded through providers that support it.
   */
  async cancelOrder(orderId: string, opts: CancelOrderOptions): Promise<CancelOrderResult> {
    const fee = opts.cancellationFee;
    if (fee !== undefined) {
      assertNonNegative(fee?.amount, 'cancellationFee');
      assertCurrency(fee.currency);
    }
    const m = this.deps.dataSource.manager;
    const current = isUuid(orderId) ? await findOrder(m, orderId) : null;
    if (!current) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    this.assertCancelable(current, fee);

    const paymentCancelFailures: CancelOrderResult['paymentCancelFailures'] = [];
    const open = await findOpenPayments(m, orderId);
    for (const p of open) {
      try {
        await this.payments.cancelPayment(p.id, opts.actor);
      } catch (err) {
        paymentCancelFailures.push({ paymentId: p.id, error: err instanceof Error ? err.message : String(err) });
      }
    }

    const order = await withTransaction(this.deps.dataSource, async (tx) => {
      const order = await lockOrder(tx, orderId);
      this.assertCancelable(order, fee);
      const from = order.status;
      const now = this.deps.clock.now();
      if (fee && fee.amount > 0) {
        await reduceToCancellationFee(tx, orderId, fee.amount);
        order.total = fee.amount;
        // Kept paid when the payments cover the fee, otherwise pending with a new deadline.
        const covered = (await loadOrderSums(tx, orderId)).paymentRefundSum >= fee.amount;
        if (!covered) {
          const event = await getEvent(tx, order.eventId);
          await moveOrder(tx, order, orderMachine.is('awaitingPayment', from) ? 'extend' : 'unpay', { expires: newPaymentDeadline(event, now) });
        } else if (!orderMachine.is('paid', from)) {
          await moveOrder(tx, order, 'pay');
        }
      } else {
        await moveOrder(tx, order, 'cancel', { cancellationDate: now });
      }
      // What is owed back once canceled travels with the event, so the buyer's "order canceled"
      // email can name the refund; the refunds themselves are created after this commit.
      const owedBack = Math.max(0, -(await loadOrderSums(tx, orderId)).pendingSum);
      // The cancel edge's effects, also when a cancellation fee keeps the order (pretix logs it as canceled).
      const effects = edgeEffects(orderMachine, from, 'cancel');
      await record(tx, {
        order, objectType: 'order', objectId: order.id, action: effects.log, actor: opts.actor,
        data: { from, to: order.status, cancellationFee: fee?.amount ?? 0, paymentCancelFailures },
        topic: effects.topic,
        payload: {
          from, to: order.status, cancellationFee: fee?.amount ?? 0, refundAmount: owedBack, autoRefund: opts.autoRefund === true,
          currency: order.currency, notifyBuyer: opts.notifyBuyer !== false,
        },
      });
      return order;
    });

    const refunds: RefundResult[] = [];
    let refundRequested = 0;
    const owed = -(await loadOrderSums(m, orderId)).pendingSum;
    if (opts.autoRefund && owed > 0) {
      const { proposals, uncovered } = await this.refunds.proposeRefunds(orderId, money(owed, order.currency));
      for (const p of proposals) {
        refunds.push(await this.refunds.createRefund(orderId, { paymentId: p.payment.id, amount: p.amount, source: 'admin', actor: opts.actor }));
      }
      refundRequested = uncovered;
    } else if (owed > 0) {
      refundRequested = owed;
    }
    if (refundRequested > 0) {
      await withTransaction(this.deps.dataSource, (tx) => record(tx, {
        order, objectType: 'order', objectId: order.id, action: 'kassa.order.refund.requested', actor: opts.actor,
        data: { amount: refundRequested, currency: order.currency }, topic: 'refund.requested',
        payload: { amount: refundRequested, currency: order.currency },
      }));
    }
    return { order: await getOrder(m, orderId), summary: await loadOrderSums(m, orderId), refunds, refundRequested, paymentCancelFailures };
  }

  private assertCancelable(order: Order, fee: Money | undefined): void {
    const event: OrderEvent = 'cancel';
    orderMachine.transition(order.status, event);
    if (fee) {
      assertSameCurrency(fee.currency, order.currency);
      if (fee.amount > order.total) throw new KassaError('ORDER_CANCELLATION_FEE_TOO_HIGH', { fee: fee.amount, total: order.total });
    }
  }

  /**
   * Removes personal data: the e-mail, attendee names, and whatever each provider says is personal
   * in payment and refund info (provider.shredPaymentInfo; unknown providers keep nothing).
   */
  async shredOrder(orderId: string, actor: Actor): Promise<Order> {
    const m = this.deps.dataSource.manager;
    if (!isUuid(orderId) || !(await orderExists(m, orderId))) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    const shred = (provider: string, info: Record<string, unknown>) =>
      this.deps.providers.has(provider) ? this.deps.providers.get(provider).shredPaymentInfo(info) : {};
    const payments = await paymentsOf(m, orderId);
    const refunds = await refundsOf(m, orderId);
    const kept = new Map([...payments, ...refunds].map((row) => [row.id, shred(row.provider, row.info)]));
    return withTransaction(this.deps.dataSource, async (tx) => {
      const order = await lockOrder(tx, orderId);
      const now = this.deps.clock.now();
      // Rows added since the read above keep nothing: shredding errs on the side of removal.
      const shredded = await shredOrderRows(tx, orderId, kept, now);
      await record(tx, {
        order, objectType: 'order', objectId: order.id, action: 'kassa.order.shredded', actor,
        data: { payments: payments.length, refunds: refunds.length }, topic: 'order.shredded',
      });
      return shredded;
    });
  }
}
