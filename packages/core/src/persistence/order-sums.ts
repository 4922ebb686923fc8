import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import { Order } from '../order/order.entity';
import { orderMachine, type OrderStatus } from '../order/order.machine';
import { paymentMachine } from '../payment/payment.machine';
import { refundMachine } from '../refund/refund.machine';
import { prepared, queryPrepared } from './prepared-query';
import { columnList, hydrate, isUuid } from './rows';

/*
 * The money sums and reconciliation flags of pretix §1.4, defined once, in SQL, so that the
 * decisions the services take under the order lock, the order summary and the control panel's
 * list filters all use the very same definitions (pretix's `annotate_overpayments`).
 *
 *   paid             = Σ payments in the set `counting` (confirmed, refunded)
 *   refunded         = Σ refunds in the set `counting` (created, transit, done)    -- external ones wait for a decision
 *   paymentRefundSum = paid − refunded
 *   pendingSum       = (0 if canceled else total) − paymentRefundSum   (negative: money is owed back)
 */

/** Lateral joins adding the sums for rows of `kassa_order` aliased `o`. */
export const orderSumsJoins = `
  LEFT JOIN LATERAL (
    SELECT coalesce(sum(p.amount) FILTER (WHERE ${paymentMachine.sqlIn('counting', 'p.state')}), 0) AS paid
    FROM order_payment p WHERE p.order_id = o.id
  ) ps ON true
  LEFT JOIN LATERAL (
    SELECT coalesce(sum(r.amount) FILTER (WHERE ${refundMachine.sqlIn('counting', 'r.state')}), 0) AS refunded,
           coalesce(bool_or(${refundMachine.sqlIn('awaitingDecision', 'r.state')}), false) AS has_external_refund,
           coalesce(bool_or(${refundMachine.sqlIn('inFlight', 'r.state')}), false) AS has_pending_refund
    FROM order_refund r WHERE r.order_id = o.id
  ) rs ON true`;

const prs = '(ps.paid - rs.refunded)';

/** Boolean/amount SQL expressions over `o`, `ps`, `rs`; usable in SELECT lists and WHERE clauses. */
export const orderSumsSql = {
  paymentRefundSum: prs,
  pendingSum: `(CASE WHEN ${orderMachine.sqlIn('canceled', 'o.status')} THEN 0 ELSE o.total END - ${prs})`,
  // Any net money held for a dead (canceled/expired) order, or more than the total for a live one.
  isOverpaid: `((${orderMachine.sqlNotIn('closed', 'o.status')} AND o.total - ${prs} < 0) OR (${orderMachine.sqlIn('closed', 'o.status')} AND ${prs} > 0))`,
  isUnderpaid: `((${orderMachine.sqlIn('paid', 'o.status')} AND o.total - ${prs} > 0) OR (${orderMachine.sqlIn('closed', 'o.status')} AND ${prs} < 0))`,
  // "Paid but the quota was gone": the money is there, the order is not paid.
  isPendingWithFullPayment: `(${orderMachine.sqlIn('payable', 'o.status')} AND o.total - ${prs} <= 0)`,
  hasExternalRefund: 'rs.has_external_refund',
  hasPendingRefund: 'rs.has_pending_refund',
} as const;

export type OrderFlag = 'isOverpaid' | 'isUnderpaid' | 'isPendingWithFullPayment' | 'hasExternalRefund' | 'hasPendingRefund';

/** SELECT-list columns for every sum and flag, named as in OrderSums. */
export const orderSumsColumns = Object.entries(orderSumsSql).map(([name, sql]) => `${sql} AS "${name}"`).join(',\n  ');

/** The derived money state of one order. Amounts are minor units of `currency`. */
export interface OrderSums {
  orderId: string;
  code: string;
  status: OrderStatus;
  total: number;
  currency: string;
  paymentRefundSum: number;
  pendingSum: number;
  isOverpaid: boolean;
  isUnderpaid: boolean;
  isPendingWithFullPayment: boolean;
  hasExternalRefund: boolean;
  hasPendingRefund: boolean;
}

/**
 * Reads the sums of one order. Inside a transaction that holds the order lock the result is stable
 * until commit, because every writer of payments and refunds takes that lock first.
 */
export async function loadOrderSums(db: Pick<EntityManager, 'query'>, orderId: string): Promise<OrderSums> {
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT o.id, o.code, o.status, o.total, o.currency,\n  ${orderSumsColumns}\nFROM kassa_order o ${orderSumsJoins}\nWHERE o.id = $1`,
    [orderId],
  );
  const row = rows[0];
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  return toOrderSums(row);
}

/**
 * Locks the order row, then reads it with its sums. Two statements on purpose: a statement that
 * waits for a row lock re-reads the locked row when it gets it, but its joins (the sums) stay in
 * the snapshot taken before the wait, so one statement could miss the payments or refunds written
 * by the transaction it waited for. The second statement starts after the lock is held, and sees
 * every change committed by previous holders.
 */
export async function lockOrderWithSums(tx: EntityManager, orderId: string): Promise<{ order: Order; sums: OrderSums }> {
  if (!isUuid(orderId)) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  const locked = await queryPrepared(tx, lockOrderSql, [orderId]);
  if (!locked[0]) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  const rows = await queryPrepared(tx, lockOrderWithSumsSql, [orderId]);
  const row = rows[0];
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  return { order: hydrate(tx, Order, row), sums: toOrderSums(row) };
}
const lockOrderSql = prepared('lock_order', 'SELECT id FROM kassa_order WHERE id = $1 FOR UPDATE');
// Prepared: the lateral joins make this the most expensive statement to plan.
const lockOrderWithSumsSql = prepared('order_with_sums',
  () => `SELECT ${columnList(Order, 'o')},\n  ${orderSumsColumns}\nFROM kassa_order o ${orderSumsJoins}\nWHERE o.id = $1`);

/** Maps a row selected with `orderSumsColumns` (plus o.id, code, status, total, currency). */
export function toOrderSums(row: Record<string, unknown>): OrderSums {
  return {
    orderId: String(row.id),
    code: String(row.code),
    status: row.status as OrderStatus,
    total: toInt(row.total),
    currency: String(row.currency).trim(),
    paymentRefundSum: toInt(row.paymentRefundSum),
    pendingSum: toInt(row.pendingSum),
    isOverpaid: row.isOverpaid === true,
    isUnderpaid: row.isUnderpaid === true,
    isPendingWithFullPayment: row.isPendingWithFullPayment === true,
    hasExternalRefund: row.hasExternalRefund === true,
    hasPendingRefund: row.hasPendingRefund === true,
  };
}

/** pg returns bigint and numeric as strings; money stays within safe integers. */
function toInt(value: unknown): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new KassaError('MONEY_NOT_SAFE_INTEGER', { field: 'sum', value: String(value) });
  return n;
}
