import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import { OrderFee } from '../order/order-fee.entity';
import { OrderPosition } from '../order/order-position.entity';
import { Order } from '../order/order.entity';
import { paymentMachine } from '../payment/payment.machine';

/*
 * The order's fee rows and total: the open payment fees (no counting payment carries them), their
 * replacement when the buyer switches method, and the total recomputed from live positions and fees.
 */

/** The open payment fees of an order (normally at most one), oldest first. */
export async function openPaymentFees(db: Pick<EntityManager, 'query'>, orderId: string): Promise<{ id: string; value: number; internalType: string }[]> {
  const rows: { id: string; value: string; internal_type: string }[] = await db.query(
    `SELECT f.id, f.value::text AS value, f.internal_type FROM order_fee f
      WHERE f.order_id = $1 AND f.fee_type = 'payment' AND NOT f.canceled
        AND NOT EXISTS (SELECT 1 FROM order_payment p WHERE p.fee_id = f.id AND ${paymentMachine.sqlIn('counting', 'p.state')})
      ORDER BY f.id`,
    [orderId],
  );
  return rows.map((r) => ({ id: r.id, value: Number(r.value), internalType: r.internal_type }));
}

/**
 * Replaces the open payment fees by one fee of `fee` for `provider` (or none when it is zero):
 * the first open fee is reused, any other is canceled. Returns the fee row's id, or null. The
 * caller holds the order lock and recomputes the total afterwards (recomputeTotal).
 */
export async function replaceOpenFee(
  tx: EntityManager, orderId: string, open: readonly { id: string }[], provider: string, fee: number,
): Promise<string | null> {
  const [keep, ...rest] = open;
  const cancel = fee > 0 ? rest : open;
  if (cancel.length > 0) await tx.query('UPDATE order_fee SET canceled = true WHERE id = ANY($1::uuid[])', [cancel.map((f) => f.id)]);
  if (fee <= 0) return null;
  if (keep) {
    await tx.query('UPDATE order_fee SET value = $2, internal_type = $3 WHERE id = $1', [keep.id, fee, provider]);
    return keep.id;
  }
  const row = await tx.save(tx.create(OrderFee, { orderId, feeType: 'payment', internalType: provider, value: fee, description: '', canceled: false }));
  return row.id;
}

/**
 * A payment plan's fees (docs/payment-plans.md): one payment fee row per instalment, carried by
 * that instalment's payment (`fee_id`), so a fee stays only once its own payment is confirmed
 * (openPaymentFees) and the fees of instalments never paid are replaced like any open fee.
 * Returns the new fee row's id, or null for a zero fee. The caller holds the order lock.
 */
export async function insertPaymentFee(tx: EntityManager, orderId: string, provider: string, fee: number): Promise<string | null> {
  if (fee <= 0) return null;
  const row = await tx.save(tx.create(OrderFee, { orderId, feeType: 'payment', internalType: provider, value: fee, description: '', canceled: false }));
  return row.id;
}

/** Points a payment at the fee it carries (or none). The caller holds the order lock. */
export async function setPaymentFee(tx: EntityManager, paymentId: string, feeId: string | null): Promise<void> {
  await tx.query('UPDATE order_payment SET fee_id = $2 WHERE id = $1', [paymentId, feeId]);
}

/**
 * Sets the order's total to its live positions plus its live fees (pretix recomputes it the same
 * way after every change), and returns it. The caller holds the order lock.
 */
export async function recomputeTotal(tx: EntityManager, order: Order): Promise<number> {
  // pg answers an UPDATE … RETURNING with [rows, affected].
  const [rows] = await tx.query(
    `UPDATE kassa_order o SET total =
        (SELECT coalesce(sum(price), 0) FROM order_position WHERE order_id = o.id AND NOT canceled)
      + (SELECT coalesce(sum(value), 0) FROM order_fee WHERE order_id = o.id AND NOT canceled),
        updated_at = now()
      WHERE o.id = $1 RETURNING o.total::text AS total`,
    [order.id],
  ) as [{ total: string }[], number];
  const total = Number(rows[0]?.total);
  if (!Number.isSafeInteger(total)) throw new KassaError('MONEY_NOT_SAFE_INTEGER', { field: 'total', value: String(rows[0]?.total) });
  order.total = total;
  return total;
}

/** Whether the order has an open (created or pending) payment. */
export async function hasOpenPayment(tx: EntityManager, orderId: string): Promise<boolean> {
  const rows: unknown[] = await tx.query(`SELECT 1 FROM order_payment WHERE order_id = $1 AND ${paymentMachine.sqlIn('open', 'state')}`, [orderId]);
  return rows.length > 0;
}

/** Stores the buyer's country on the order (asked when a restricted method appeared). */
export async function setOrderCountry(tx: EntityManager, orderId: string, country: string): Promise<void> {
  await tx.query('UPDATE kassa_order SET country = $2 WHERE id = $1', [orderId, country]);
}

/**
 * pretix's cancellation fee: every position and fee of the order is canceled and one
 * cancellation fee of `amount` becomes its total. The caller holds the order lock.
 */
export async function reduceToCancellationFee(tx: EntityManager, orderId: string, amount: number): Promise<void> {
  await tx.update(OrderPosition, { orderId }, { canceled: true });
  await tx.update(OrderFee, { orderId, canceled: false }, { canceled: true });
  await tx.save(tx.create(OrderFee, { orderId, feeType: 'cancellation', internalType: '', value: amount, description: '', canceled: false }));
  await tx.update(Order, { id: orderId }, { total: amount });
}
