import type { EntityManager } from 'typeorm';
import { Event } from '../event/event.entity';
import { orderMachine, type OrderStatus } from '../order/order.machine';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine } from '../payment/payment.machine';
import { firstPaymentState } from './placement-batch';
import { nextLocalId } from './rows';

/*
 * The payment service's plain row reads and writes (its state changes go through the builder in
 * state-change.ts, its hot statements live in payment-confirm.ts and payment-execute.ts).
 */

/** The event row; NOT_FOUND-like TypeORM error when it is gone. */
export async function readEvent(m: EntityManager, eventId: string): Promise<Event> {
  return m.findOneByOrFail(Event, { id: eventId });
}

/** An open (created or pending) payment of this provider for exactly this amount, if any. */
export async function findOpenPayment(tx: EntityManager, orderId: string, provider: string, amount: number): Promise<OrderPayment | null> {
  return tx.findOne(OrderPayment, { where: paymentMachine.statesOf('open').map((state) => ({ orderId, provider, amount, state })) });
}

/** The open (created or pending) payments of an order. */
export async function findOpenPayments(m: EntityManager, orderId: string): Promise<OrderPayment[]> {
  return m.find(OrderPayment, { where: paymentMachine.statesOf('open').map((state) => ({ orderId, state })), order: { localId: 'ASC' } });
}

/** Sets a payment's amount (the caller holds its lock and logs the change). */
export async function setPaymentAmount(tx: EntityManager, paymentId: string, amount: number): Promise<void> {
  await tx.query('UPDATE order_payment SET amount = $2 WHERE id = $1', [paymentId, amount]);
}

/** Replaces a payment's provider info (the caller holds its lock and logs the change). */
export async function setPaymentInfo(tx: EntityManager, paymentId: string, info: Record<string, unknown>): Promise<void> {
  await tx.query('UPDATE order_payment SET info = $2::jsonb WHERE id = $1', [paymentId, JSON.stringify(info)]);
}

/** The order's current status, read in the caller's transaction (no lock). */
export async function readOrderStatus(tx: EntityManager, orderId: string): Promise<OrderStatus | undefined> {
  const [row]: { status: OrderStatus }[] = await tx.query('SELECT status FROM kassa_order WHERE id = $1', [orderId]);
  return row && orderMachine.states.includes(row.status) ? row.status : undefined;
}

/** Inserts a new payment in its initial state with the next local id; the caller holds the order lock (or is creating the order). */
export async function insertPaymentRow(
  tx: EntityManager, order: { id: string; currency: string }, input: { provider: string; amount: number; feeId: string | null; first?: boolean },
): Promise<OrderPayment> {
  // The first payment of an order being placed is number 1; no need to ask.
  const localId = input.first ? 1 : await nextLocalId(tx, 'order_payment', order.id);
  return tx.save(tx.create(OrderPayment, {
    orderId: order.id, localId, state: firstPaymentState, amount: input.amount, currency: order.currency,
    provider: input.provider, info: {}, feeId: input.feeId, processInitiated: false, paymentDate: null,
  }));
}
