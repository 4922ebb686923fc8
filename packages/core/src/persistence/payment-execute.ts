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
import { InFlightBatcher } from '../util/in-flight-batcher';

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
const pendSql = prepared('pend_created_payments', () => `WITH req AS MATERIALIZED (
      SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(
        id uuid, info jsonb, organizer_id uuid, event_id uuid, order_id uuid, actor_type text, actor_id text, data jsonb, payload jsonb)),
    locked AS MATERIALIZED (SELECT x.id FROM order_payment x WHERE x.id IN (SELECT id FROM req) ORDER BY x.id FOR NO KEY UPDATE),
    ${stateChangeCte('p', {
    table: 'order_payment', alias: 'x', column: 'state', to: sqlText(pendEdge.to), from: `state = ${sqlText(pendFrom)}`,
    using: 'req', where: 'x.id = req.id AND x.id IN (SELECT id FROM locked)', set: ['info = x.info || req.info'],
    returning: 'x.id, req.organizer_id, req.event_id, req.order_id, req.actor_type, req.actor_id, req.data, req.payload',
  })},
    ${logInsertCte('entry', {
    organizerId: 'p.organizer_id', eventId: 'p.event_id', orderId: 'p.order_id', objectType: sqlText('payment'), objectId: 'p.id::text',
    action: sqlText(pendEdge.effects.log), actorType: 'p.actor_type', actorId: 'p.actor_id', data: 'p.data',
  }, 'p')},
    ${outboxInsertCte('ev', { topic: sqlText(pendEdge.effects.topic), organizerId: 'p.organizer_id', orderId: 'p.order_id', payload: 'p.payload' }, 'p')}
    SELECT id FROM p`);

/** One payment to move created → pending, as the batch statement reads it. */
interface PendRequest {
  id: string; info: Record<string, unknown>; organizer_id: string; event_id: string; order_id: string;
  actor_type: string; actor_id: string | null; data: Record<string, unknown>; payload: Record<string, unknown>;
}

/** One batcher per data source: the pending steps of concurrent checkouts share one statement and one commit. */
const pendBatchers = new WeakMap<EntityManager, InFlightBatcher<PendRequest, boolean>>();

function pendBatcher(m: EntityManager): InFlightBatcher<PendRequest, boolean> {
  let batcher = pendBatchers.get(m);
  if (!batcher) {
    batcher = new InFlightBatcher(async (requests) => {
      const moved = new Set((await queryPrepared<{ id: string }>(m, pendSql, [JSON.stringify(requests)])).map((r) => r.id));
      return requests.map((r) => moved.has(r.id));
    });
    pendBatchers.set(m, batcher);
  }
  return batcher;
}

/**
 * The common outcome of a fresh attempt, 'pending' (bank transfer, manual payment), in one
 * statement and one commit: the payment moves created → pending with the provider's info merged
 * (top-level keys, as pendPayment does), with the pend edge's log entry and outbox event, composed
 * from the builder's fragments. The pending steps that arrive while one is in flight go together in
 * the next statement (InFlightBatcher; payments locked in id order). Returns false when the payment
 * was no longer `created` (a webhook came first): the caller then takes pendPayment's general path.
 * `m` must be the data source's manager (no transaction: the batch commits on its own).
 */
export async function pendCreatedPayment(
  m: EntityManager, payment: Pick<OrderPayment, 'id' | 'localId' | 'provider'>, order: Pick<Order, 'id' | 'organizerId' | 'eventId' | 'code'>,
  actor: { type: string; id?: string | null }, info: Record<string, unknown> | undefined,
): Promise<boolean> {
  return pendBatcher(m).submit({
    id: payment.id, info: info ?? {}, organizer_id: order.organizerId, event_id: order.eventId, order_id: order.id,
    actor_type: actor.type, actor_id: actor.id ?? null,
    data: { localId: payment.localId, provider: payment.provider },
    payload: { orderId: order.id, code: order.code, paymentId: payment.id, provider: payment.provider },
  });
}
