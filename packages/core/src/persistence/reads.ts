import type { EntityManager } from 'typeorm';
import { Event } from '../event/event.entity';
import { Order } from '../order/order.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { OrderRefund } from '../refund/order-refund.entity';

/*
 * Plain reads of single rows for the services, outside or inside their transactions (no lock;
 * the lock helpers are in rows.ts). The services read core's tables only through the kernel.
 */

export async function findOrder(m: EntityManager, id: string): Promise<Order | null> {
  return m.findOneBy(Order, { id });
}

/** The order; TypeORM's EntityNotFoundError when it is gone (callers checked it exists). */
export async function getOrder(m: EntityManager, id: string): Promise<Order> {
  return m.findOneByOrFail(Order, { id });
}

export async function orderExists(m: EntityManager, id: string): Promise<boolean> {
  return m.existsBy(Order, { id });
}

/** The event row; TypeORM's EntityNotFoundError when it is gone. */
export async function getEvent(m: EntityManager, id: string): Promise<Event> {
  return m.findOneByOrFail(Event, { id });
}

/** The payment, optionally only when it belongs to `orderId`. */
export async function findPayment(m: EntityManager, id: string, orderId?: string): Promise<OrderPayment | null> {
  return m.findOneBy(OrderPayment, orderId === undefined ? { id } : { id, orderId });
}

export async function findRefund(m: EntityManager, id: string): Promise<OrderRefund | null> {
  return m.findOneBy(OrderRefund, { id });
}

export async function paymentsOf(m: EntityManager, orderId: string): Promise<OrderPayment[]> {
  return m.findBy(OrderPayment, { orderId });
}

export async function refundsOf(m: EntityManager, orderId: string): Promise<OrderRefund[]> {
  return m.findBy(OrderRefund, { orderId });
}
