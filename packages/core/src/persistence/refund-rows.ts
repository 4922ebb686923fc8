import type { EntityManager } from 'typeorm';
import type { Order } from '../order/order.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine } from '../payment/payment.machine';
import { OrderRefund } from '../refund/order-refund.entity';
import { refundMachine } from '../refund/refund.machine';
import { nextLocalId } from './rows';

/*
 * The refund service's plain row reads and writes (its state changes go through the builder in
 * state-change.ts).
 */

/** The id of the order's newest refund (highest local id), or null: what a refund form was built from. */
export async function lastRefundId(db: Pick<EntityManager, 'query'>, orderId: string): Promise<string | null> {
  const [row] = await db.query('SELECT id FROM order_refund WHERE order_id = $1 ORDER BY local_id DESC LIMIT 1', [orderId]);
  return row ? String(row.id) : null;
}

/** Σ of a payment's refunds that count (the refund machine's set `counting`). */
export async function refundedOn(db: Pick<EntityManager, 'query'>, paymentId: string): Promise<number> {
  const [row] = await db.query(`SELECT coalesce(sum(amount), 0) AS s FROM order_refund WHERE payment_id = $1 AND ${refundMachine.sqlIn('counting', 'state')}`, [paymentId]);
  return Number(row.s);
}

/** Inserts a refund with the next local id; the caller holds the order lock. */
export async function insertRefundRow(
  tx: EntityManager, order: Pick<Order, 'id' | 'currency'>,
  input: Pick<OrderRefund, 'state' | 'source' | 'amount' | 'provider' | 'paymentId' | 'comment'> & Partial<Pick<OrderRefund, 'info' | 'externalId'>>,
): Promise<OrderRefund> {
  const localId = await nextLocalId(tx, 'order_refund', order.id);
  return tx.save(tx.create(OrderRefund, {
    orderId: order.id, localId, currency: order.currency, info: {}, externalId: null, executionDate: null, ...input,
  }));
}

/** The refund a provider already reported under this external id, if any. */
export async function findRefundByExternalId(m: EntityManager, provider: string, externalId: string): Promise<OrderRefund | null> {
  return m.findOneBy(OrderRefund, { provider, externalId });
}

/** The order's payments that a new refund may go against, oldest first. */
export async function findRefundablePayments(m: EntityManager, orderId: string): Promise<OrderPayment[]> {
  return m.find(OrderPayment, { where: paymentMachine.statesOf('refundable').map((state) => ({ orderId, state })), order: { localId: 'ASC' } });
}
