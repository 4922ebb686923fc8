import type { EntityManager } from 'typeorm';
import { OrderPosition } from '../order/order-position.entity';
import { Order } from '../order/order.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { OrderRefund } from '../refund/order-refund.entity';
import { shredMethodsOfOrder } from './stored-method.store';

/**
 * Removes the order's personal data: its e-mail and attendee names, and the provider info of its
 * payments and refunds, replaced by what `kept` says each provider keeps (rows missing from
 * `kept` keep nothing). The caller holds the order lock. Returns the order as stored now.
 */
export async function shredOrderRows(tx: EntityManager, orderId: string, kept: ReadonlyMap<string, Record<string, unknown>>, now: Date): Promise<Order> {
  await tx.update(Order, { id: orderId }, { email: null, shreddedAt: now });
  await tx.update(OrderPosition, { orderId }, { attendeeName: null });
  for (const p of await tx.findBy(OrderPayment, { orderId })) await tx.update(OrderPayment, { id: p.id }, { info: (kept.get(p.id) ?? {}) as never });
  for (const r of await tx.findBy(OrderRefund, { orderId })) await tx.update(OrderRefund, { id: r.id }, { info: (kept.get(r.id) ?? {}) as never });
  // Methods saved in this order lose their display details and can no longer be charged.
  await shredMethodsOfOrder(tx, orderId, now);
  return tx.findOneByOrFail(Order, { id: orderId });
}
