import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import { Event } from '../event/event.entity';
import { Order } from '../order/order.entity';
import { orderMachine, type OrderStatus } from '../order/order.machine';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine, type PaymentState } from '../payment/payment.machine';
import { logInsertCte, outboxInsertCte, sqlText } from './audit-outbox';
import { prepared, queryPrepared } from './prepared-query';
import { columnList, hydrate, isUuid, prefixedColumns, unprefixed } from './rows';
import { edgeEffects, stateChangeCte } from './state-change';

/*
 * The two statements executePayment sends before it calls the provider. It runs once per order
 * placed in the shop, so each is a single prepared round trip instead of a handful of statements
 * (three reads; BEGIN, lock, read, update, COMMIT).
 */

const loadSql = prepared('load_payment_order_event', () => `SELECT ${columnList(OrderPayment, 'p')}, ${prefixedColumns(Order, 'order__', 'o')}, ${prefixedColumns(Event, 'event__', 'e')}
      FROM order_payment p JOIN kassa_order o ON o.id = p.order_id JOIN event e ON e.id = o.event_id
     WHERE p.id = $1`);

/** Reads a payment with its order and event in one statement (no lock; for provider calls outside transactions). */
export async function loadPaymentOrderEvent(m: EntityManager, paymentId: string): Promise<{ payment: OrderPayment; order: Order; event: Event }> {
  if (!isUuid(paymentId)) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
  const [row] = await queryPrepared(m, loadSql, [paymentId]);
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
  return {
    payment: hydrate(m, OrderPayment, row),
    order: hydrate(m, Order, unprefixed(row, 'order__')),
    event: hydrate(m, Event, unprefixed(row, 'event__')),
  };
}

const initiateSql = prepared('initiate_payment', () => `UPDATE order_payment p SET process_initiated = true
      FROM kassa_order o
     WHERE p.id = $1 AND o.id = p.order_id AND ${paymentMachine.sqlIn('executable', 'p.state')} AND NOT p.process_initiated
       AND ${orderMachine.sqlIn('payable', 'o.status')}
     RETURNING p.id`);

/**
 * Marks an executable (created), not yet initiated payment of a payable (pending or expired) order as initiated,
 * in one UPDATE: its row lock serialises two concurrent calls, and the second finds
 * process_initiated set and changes nothing. When nothing was changed, says why with the same
 * errors as before (PAYMENT_NOT_EXECUTABLE, ORDER_NOT_PAYABLE, NOT_FOUND).
 */
export async function markPaymentInitiated(m: EntityManager, paymentId: string): Promise<void> {
  const changed = await queryPrepared(m, initiateSql, [paymentId]);
  if (changed.length === 1) return;
  const [row] = await m.query(
    `SELECT p.state, p.process_initiated AS "processInitiated", o.status, o.code
       FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE p.id = $1`, [paymentId],
  ) as { state: PaymentState; processInitiated: boolean; status: OrderStatus; code: string }[];
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Payment ${paymentId}` });
  if (!paymentMachine.is('executable', row.state)) throw new KassaError('PAYMENT_NOT_EXECUTABLE', { id: paymentId, reason: `it is ${row.state}` });
  if (row.processInitiated) throw new KassaError('PAYMENT_NOT_EXECUTABLE', { id: paymentId, reason: 'it was already initiated' });
  throw new KassaError('ORDER_NOT_PAYABLE', { code: row.code, reason: `the order is ${row.status}` });
}

const pendFrom = paymentMachine.sourcesOf('pend')[0]!;
const pendEdge = { to: paymentMachine.transition(pendFrom, 'pend').to, effects: edgeEffects(paymentMachine, pendFrom, 'pend') };
const pendSql = prepared('pend_created_payment', () => `WITH ${stateChangeCte('p', {
  table: 'order_payment', column: 'state', to: sqlText(pendEdge.to), from: `state = ${sqlText(pendFrom)}`, where: 'id = $1',
  set: ['info = info || $2::jsonb'], returning: 'id',
})},
    ${logInsertCte('entry', {
    organizerId: '$3::uuid', eventId: '$4::uuid', orderId: '$5::uuid', objectType: sqlText('payment'), objectId: '$1::text',
    action: sqlText(pendEdge.effects.log), actorType: '$6::text', actorId: '$7::text', data: '$8::jsonb',
  }, 'p')},
    ${outboxInsertCte('ev', { topic: sqlText(pendEdge.effects.topic), organizerId: '$3::uuid', orderId: '$5::uuid', payload: '$9::jsonb' }, 'p')}
    SELECT id FROM p`);

/**
 * The common outcome of a fresh attempt, 'pending' (bank transfer, manual payment), in one
 * statement and one commit: the payment moves created → pending with the provider's info merged
 * (top-level keys, as pendPayment does), with the pend edge's log entry and outbox event, composed
 * from the builder's fragments. Returns false when the payment was
 * no longer `created` (a webhook came first): the caller then takes pendPayment's general path.
 */
export async function pendCreatedPayment(
  m: EntityManager, payment: Pick<OrderPayment, 'id' | 'localId' | 'provider'>, order: Pick<Order, 'id' | 'organizerId' | 'eventId' | 'code'>,
  actor: { type: string; id?: string | null }, info: Record<string, unknown> | undefined,
): Promise<boolean> {
  const data = { localId: payment.localId, provider: payment.provider };
  const payload = { orderId: order.id, code: order.code, paymentId: payment.id, provider: payment.provider };
  const rows = await queryPrepared(m, pendSql, [
    payment.id, JSON.stringify(info ?? {}), order.organizerId, order.eventId, order.id, actor.type, actor.id ?? null,
    JSON.stringify(data), JSON.stringify(payload),
  ]);
  return rows.length === 1;
}
