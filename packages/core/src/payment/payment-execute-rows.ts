import type { EntityManager } from 'typeorm';
import { prepared, queryPrepared, type PreparedStatement } from '../db/prepared-query';
import { KassaError } from '../errors';
import { Event } from '../event/event.entity';
import { Order } from '../order/order.entity';
import { columnList, hydrate, isUuid, prefixedColumns, unprefixed } from '../order/state-writes';
import { OrderPayment } from './order-payment.entity';

/*
 * The two statements executePayment sends before it calls the provider. It runs once per order
 * placed in the shop, so each is a single prepared round trip instead of a handful of statements
 * (three reads; BEGIN, lock, read, update, COMMIT).
 */

let loadSql: PreparedStatement | undefined;
let initiateSql: PreparedStatement | undefined;

/** Reads a payment with its order and event in one statement (no lock; for provider calls outside transactions). */
export async function loadPaymentOrderEvent(m: EntityManager, paymentId: string): Promise<{ payment: OrderPayment; order: Order; event: Event }> {
  if (!isUuid(paymentId)) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
  loadSql ??= prepared('load_payment_order_event', `SELECT ${columnList(m, OrderPayment, 'p')}, ${prefixedColumns(m, Order, 'order__', 'o')}, ${prefixedColumns(m, Event, 'event__', 'e')}
      FROM order_payment p JOIN kassa_order o ON o.id = p.order_id JOIN event e ON e.id = o.event_id
     WHERE p.id = $1`);
  const [row] = await queryPrepared(m, loadSql, [paymentId]);
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
  return {
    payment: hydrate(m, OrderPayment, row),
    order: hydrate(m, Order, unprefixed(row, 'order__')),
    event: hydrate(m, Event, unprefixed(row, 'event__')),
  };
}

/**
 * Marks a created, not yet initiated payment of an open (pending or expired) order as initiated,
 * in one UPDATE: its row lock serialises two concurrent calls, and the second finds
 * process_initiated set and changes nothing. When nothing was changed, says why with the same
 * errors as before (PAYMENT_NOT_EXECUTABLE, ORDER_NOT_PAYABLE, NOT_FOUND).
 */
export async function markPaymentInitiated(m: EntityManager, paymentId: string): Promise<void> {
  initiateSql ??= prepared('initiate_payment', `UPDATE order_payment p SET process_initiated = true
      FROM kassa_order o
     WHERE p.id = $1 AND o.id = p.order_id AND p.state = 'created' AND NOT p.process_initiated AND o.status IN ('pending', 'expired')
     RETURNING p.id`);
  const changed = await queryPrepared(m, initiateSql, [paymentId]);
  if (changed.length === 1) return;
  const [row] = await m.query(
    `SELECT p.state, p.process_initiated AS "processInitiated", o.status, o.code
       FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE p.id = $1`, [paymentId],
  ) as { state: string; processInitiated: boolean; status: string; code: string }[];
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
  if (row.state !== 'created') throw new KassaError('PAYMENT_NOT_EXECUTABLE', { id: paymentId, reason: `it is ${row.state}` });
  if (row.processInitiated) throw new KassaError('PAYMENT_NOT_EXECUTABLE', { id: paymentId, reason: 'it was already initiated' });
  throw new KassaError('ORDER_NOT_PAYABLE', { code: row.code, reason: `the order is ${row.status}` });
}

let pendSql: PreparedStatement | undefined;

/**
 * The common outcome of a fresh attempt, 'pending' (bank transfer, manual payment), in one
 * statement and one commit: the payment moves created → pending with the provider's info merged
 * (top-level keys, as pendPayment does), with its log entry and outbox event. The columns are
 * those `record` writes; a change there must be mirrored here. Returns false when the payment was
 * no longer `created` (a webhook came first): the caller then takes pendPayment's general path.
 */
export async function pendCreatedPayment(
  m: EntityManager, payment: Pick<OrderPayment, 'id' | 'localId' | 'provider'>, order: Pick<Order, 'id' | 'organizerId' | 'eventId' | 'code'>,
  actor: { type: string; id?: string | null }, info: Record<string, unknown> | undefined,
): Promise<boolean> {
  pendSql ??= prepared('pend_created_payment', `WITH p AS (
      UPDATE order_payment SET state = 'pending', info = info || $2::jsonb WHERE id = $1 AND state = 'created' RETURNING id),
    entry AS (
      INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
      SELECT $3::uuid, $4::uuid, $5::uuid, 'payment', $1::text, 'kassa.order.payment.pending', $6::text, $7::text, $8::jsonb FROM p),
    ev AS (
      INSERT INTO outbox_event (topic, organizer_id, order_id, payload)
      SELECT 'payment.pending', $3::uuid, $5::uuid, $9::jsonb FROM p)
    SELECT id FROM p`);
  const data = { localId: payment.localId, provider: payment.provider };
  const payload = { orderId: order.id, code: order.code, paymentId: payment.id, provider: payment.provider };
  const rows = await queryPrepared(m, pendSql, [
    payment.id, JSON.stringify(info ?? {}), order.organizerId, order.eventId, order.id, actor.type, actor.id ?? null,
    JSON.stringify(data), JSON.stringify(payload),
  ]);
  return rows.length === 1;
}
