import type { OrderPayment } from './order-payment.entity';

/**
 * First payments that placeOrder wrote already initiated (`startPayment`), for the caller to
 * execute next. executePayment skips its initiate statement for exactly these objects, once: the
 * reservation is the object itself, which only placeOrder's caller holds, so it cannot be forged
 * from an id, and it is taken on first use, so a second executePayment with the same object goes
 * through the database check (and is refused, the payment being initiated already).
 */
const reserved = new WeakSet<OrderPayment>();

export function reserveExecution(payment: OrderPayment): void {
  reserved.add(payment);
}

/** True once for a payment object placeOrder reserved; false for anything else. */
export function takeExecutionReservation(payment: OrderPayment | undefined): boolean {
  if (!payment || !reserved.has(payment)) return false;
  reserved.delete(payment);
  return true;
}
