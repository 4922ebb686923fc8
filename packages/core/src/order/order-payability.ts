import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import type { Event } from '../event/event.entity';
import type { Order } from './order.entity';
import { orderMachine } from './order.machine';
import { livePositionProducts, quotaRefusal, readQuotas, reserveQuota } from '../persistence/quota-check';

/*
 * "Can this order still be paid?" — pretix's Order._can_be_paid, decided here and nowhere else.
 * Every path that starts a payment (the shop's order and pay pages, createPayment, executePayment,
 * the Stripe plugin's pay/intent/return routes, the API) asks before any money moves, and the
 * confirmation of a payment that arrived asks again, under the order lock, before it marks the
 * order paid. In pretix's order:
 *   1. a paid or canceled order is not paid (again);
 *   2. after the event's last date of payments, no order is paid (unless an organizer forces it);
 *   3. a pending order can be paid;
 *   4. an expired order only when late payments are accepted and its quota is still there
 *      (unless forced).
 * Starting a payment also needs money to be owed: an order that is fully paid but pending
 * ("paid, awaiting confirmation") waits for the organizer, not for a second payment.
 */

export type PaymentRefusalCode = 'order_paid' | 'order_canceled' | 'last_date_passed' | 'late_not_accepted' | 'quota_gone' | 'nothing_owed';

export interface PaymentRefusal {
  code: PaymentRefusalCode;
  /** For people: completes "Order X cannot be paid: …". */
  reason: string;
}

export interface PayabilityInput {
  order: Pick<Order, 'id' | 'status'>;
  event: Pick<Event, 'paymentTermAcceptLate' | 'paymentTermLast'>;
  now: Date;
  /**
   * What is still owed (pendingSum). Given when a payment is about to start: nothing owed refuses.
   * Left out when money has already arrived (confirming).
   */
  pendingSum?: number;
  /**
   * How an expired order's quota is checked: `read` looks without locking (starting a payment:
   * the real reservation happens when the money arrives); `lock` reserves it (confirming, inside
   * the transaction that marks the order paid, pretix's locked check).
   */
  quota: 'read' | 'lock';
  /** The organizer's force: skips the last date, late payments and quota (pretix force + ignore_date). */
  force?: boolean;
}

/** Why the order cannot be paid now, or null when it can. See the rules above. */
export async function paymentRefusal(db: EntityManager, input: PayabilityInput): Promise<PaymentRefusal | null> {
  const { order, event, now, force = false } = input;
  if (orderMachine.is('paid', order.status)) return { code: 'order_paid', reason: 'the order is paid' };
  if (orderMachine.is('canceled', order.status)) return { code: 'order_canceled', reason: 'the order is canceled' };
  if (!force && lastDatePassed(event, now)) return { code: 'last_date_passed', reason: 'the last date of payments has passed' };
  if (input.pendingSum !== undefined && input.pendingSum <= 0) return { code: 'nothing_owed', reason: 'nothing is owed' };
  if (orderMachine.is('awaitingPayment', order.status) || force) return null;
  if (!event.paymentTermAcceptLate) return { code: 'late_not_accepted', reason: 'the payment term is over and late payments are not accepted' };
  const quota = await expiredQuotaRefusal(db, order.id, input.quota, now);
  return quota ? { code: 'quota_gone', reason: `the tickets are no longer available (${quota.message})` } : null;
}

/** paymentRefusal as an error: ORDER_NOT_PAYABLE naming the order and the reason. */
export async function assertPayable(db: EntityManager, input: PayabilityInput & { order: Pick<Order, 'id' | 'status' | 'code'> }): Promise<void> {
  const refusal = await paymentRefusal(db, input);
  if (refusal) throw new KassaError('ORDER_NOT_PAYABLE', { code: input.order.code, reason: refusal.reason });
}

export function lastDatePassed(event: Pick<Event, 'paymentTermLast'>, now: Date): boolean {
  return event.paymentTermLast !== null && event.paymentTermLast !== undefined && now.getTime() > new Date(event.paymentTermLast).getTime();
}

/**
 * A new payment deadline: the event's payment term from now, never beyond the last date of
 * payments (pretix's set_expires).
 */
export function newPaymentDeadline(event: Pick<Event, 'paymentTermDays' | 'paymentTermLast'>, now: Date): Date {
  const expires = new Date(now.getTime() + event.paymentTermDays * 86_400_000);
  const last = event.paymentTermLast ? new Date(event.paymentTermLast) : null;
  return last && last < expires ? last : expires;
}

/** The quota refusal an expired order would meet if revived now, or null. */
async function expiredQuotaRefusal(db: EntityManager, orderId: string, mode: 'read' | 'lock', now: Date): Promise<KassaError | null> {
  const products = await livePositionProducts(db, orderId);
  if (mode === 'lock') {
    try {
      await reserveQuota(db, products, now);
      return null;
    } catch (err) {
      if (err instanceof KassaError && (err.code === 'ORDER_QUOTA_EXCEEDED' || err.code === 'ORDER_PRODUCT_UNAVAILABLE')) return err;
      throw err;
    }
  }
  if (products.length === 0) return null;
  return quotaRefusal(products, await readQuotas(db, products, now));
}
