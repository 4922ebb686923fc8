import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import { Order } from '../order/order.entity';
import { orderMachine } from '../order/order.machine';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine, type PaymentState } from '../payment/payment.machine';
import { logInsertCte, outboxInsertCte, sqlText } from './audit-outbox';
import { orderSumsColumns, orderSumsJoins, toOrderSums, type OrderSums } from './order-sums';
import { prepared, queryPrepared } from './prepared-query';
import { columnList, hydrate, lockPaymentWithOrder, orderRefFrom, type OrderRef } from './rows';
import { edgeEffects, stateChangeCte } from './state-change';

/*
 * Step 1 of confirmPayment as one prepared statement: the compare-and-set UPDATE is the row lock
 * and the transition at once, and the audit entry and outbox event ride along in the same CTE.
 * The order row is locked first (lock order: order, then payment). That is what keeps the order
 * step right: it runs in the same transaction, so its snapshot must come after every other
 * confirmation of this order has committed, and every one of them held this lock until then.
 * Locking the order only in the order step would not do: a statement that waits for a row lock
 * still reads its sums in the snapshot taken before the wait, and two halves of a payment
 * confirmed at once would each miss the other (confirm-savepoint.db.test.ts).
 * Only when it hits no row does a second read tell "already confirmed" from "not allowed".
 * The compare-and-set, the entry and the event are the builder's fragments; the action and topic
 * are the confirm edge's.
 */

const confirmSources = paymentMachine.sourcesOf('confirm');
const confirmEdge = { to: paymentMachine.transition(confirmSources[0]!, 'confirm').to, effects: edgeEffects(paymentMachine, confirmSources[0]!, 'confirm') };
// Every source goes to the same target with the same effects, so one statement serves them all.
if (confirmSources.some((s) => {
  const t = paymentMachine.transition(s, 'confirm');
  return t.to !== confirmEdge.to || t.effects.log !== confirmEdge.effects.log || t.effects.topic !== confirmEdge.effects.topic;
})) {
  throw new Error('payment machine: confirm must lead to one state with one effect from every source');
}

const confirmSql = prepared('confirm_payment', () => `WITH o AS (
      SELECT o.id, o.organizer_id, o.event_id, o.code FROM kassa_order o
       WHERE o.id = (SELECT order_id FROM order_payment WHERE id = $1)
         FOR UPDATE),
    ${stateChangeCte('p', {
    table: 'order_payment', column: 'state', to: '$2', from: 'state = ANY($5::text[])', where: 'id = $1 AND order_id = (SELECT id FROM o)',
    set: ['payment_date = $3', 'info = CASE WHEN $4::jsonb IS NULL THEN info ELSE info || $4::jsonb END'], returning: columnList(OrderPayment),
  })},
    ${logInsertCte('entry', {
    organizerId: 'o.organizer_id', eventId: 'o.event_id', orderId: 'o.id', objectType: sqlText('payment'), objectId: 'p.id',
    action: sqlText(confirmEdge.effects.log), actorType: '$6::text', actorId: '$7::text',
    data: "jsonb_build_object('localId', p.local_id, 'provider', p.provider, 'amount', p.amount)",
  }, 'p, o')},
    ${outboxInsertCte('ev', {
    topic: sqlText(confirmEdge.effects.topic), organizerId: 'o.organizer_id', orderId: 'o.id',
    payload: "jsonb_build_object('orderId', o.id, 'code', o.code, 'paymentId', p.id, 'provider', p.provider, 'amount', p.amount, 'currency', p.currency)",
  }, 'p, o')}
    SELECT p.*, o.organizer_id AS order_organizer_id, o.event_id AS order_event_id, o.code AS order_code FROM p, o`);

/**
 * Confirms the payment row (from any state the machine allows, narrowed to `onlyFrom` when given)
 * with its log entry and event. `already` when another call confirmed it first: nothing written.
 * Refusals: NOT_FOUND, PAYMENT_CONFIRM_NOT_ALLOWED (outside `onlyFrom`), STATE_TRANSITION_NOT_ALLOWED.
 */
export async function confirmPaymentRow(
  tx: EntityManager, paymentId: string, opts: { actor: Actor; info?: Record<string, unknown> },
  onlyFrom: readonly PaymentState[] | undefined, paymentDate: Date,
): Promise<{ payment: OrderPayment; order: OrderRef; already: boolean }> {
  const allowed = onlyFrom ? confirmSources.filter((s) => onlyFrom.includes(s)) : confirmSources;
  const [row] = await queryPrepared(tx, confirmSql, [
    paymentId, confirmEdge.to, paymentDate, opts.info ? JSON.stringify(opts.info) : null, allowed, opts.actor.type, opts.actor.id ?? null,
  ]);
  if (row) {
    const payment = hydrate(tx, OrderPayment, row);
    return { payment, already: false, order: orderRefFrom(payment.orderId, row) };
  }
  const { payment, order } = await lockPaymentWithOrder(tx, paymentId);
  // Confirmed before the narrowing: of confirmations sent at once (an organizer's double click, an
  // API client's retries) one wins and every other one is a repeat, answered as such, not refused.
  if (paymentMachine.is('confirmed', payment.state)) return { payment, order, already: true };
  if (onlyFrom && !onlyFrom.includes(payment.state)) {
    throw new KassaError('PAYMENT_CONFIRM_NOT_ALLOWED', { id: paymentId, state: payment.state });
  }
  // Refunded since: the money was received, so this is a repeat too.
  if (paymentMachine.is('counting', payment.state)) return { payment, order, already: true };
  paymentMachine.transition(payment.state, 'confirm');
  // Allowed now but missed by the update: it moved in between; the caller may retry.
  throw new KassaError('STATE_CONFLICT', { machine: paymentMachine.name, id: paymentId, expected: payment.state });
}

/*
 * Step 2's common case in one statement: lock the order row with its sums and, when it awaits its
 * payment and the payments now cover the total, move it along `pay` with the edge's log entry and
 * event (the data and payload the builder would write). Every other case (paid, canceled,
 * partial, expired, past the last date of payments) comes back unchanged, with the order still
 * locked and its sums read, for the caller to decide as before. States, target and effects are
 * the machine's.
 */
const payFrom = orderMachine.statesOf('awaitingPayment');
const payEdge = { to: orderMachine.transition(payFrom[0]!, 'pay').to, effects: edgeEffects(orderMachine, payFrom[0]!, 'pay') };
if (payFrom.some((s) => orderMachine.transition(s, 'pay').to !== payEdge.to || orderMachine.effectsOf(s, 'pay').log !== payEdge.effects.log)) {
  throw new Error('order machine: pay must lead to one state with one effect from every state awaiting payment');
}

const lockAndPaySql = prepared('lock_order_pay_if_covered', () => `WITH o AS (
      SELECT ${columnList(Order, 'o')},
        ${orderSumsColumns}
        FROM kassa_order o ${orderSumsJoins}
       WHERE o.id = $1
         FOR UPDATE OF o),
    ${stateChangeCte('u', {
    table: 'kassa_order', alias: 'k', column: 'status', to: sqlText(payEdge.to), from: orderMachine.sqlIn('awaitingPayment', 'status'),
    set: ['updated_at = now()'], using: 'o',
    where: `k.id = o.id AND ${orderMachine.sqlIn('awaitingPayment', 'o.status')} AND o."paymentRefundSum" >= o.total
         -- After the event's last date of payments the caller decides (order-payability.ts).
         AND NOT EXISTS (SELECT 1 FROM event e WHERE e.id = o.event_id AND e.payment_term_last < $5)`,
    returning: 'k.id, k.organizer_id, k.event_id, k.code, k.total, k.currency',
  })},
    ${logInsertCte('entry', {
    organizerId: 'u.organizer_id', eventId: 'u.event_id', orderId: 'u.id', objectType: sqlText('order'), objectId: 'u.id',
    action: sqlText(payEdge.effects.log), actorType: '$2::text', actorId: '$3::text', data: '$4::jsonb',
  }, 'u')},
    ${outboxInsertCte('ev', {
    topic: sqlText(payEdge.effects.topic), organizerId: 'u.organizer_id', orderId: 'u.id',
    payload: "jsonb_build_object('orderId', u.id, 'code', u.code, 'total', u.total, 'currency', u.currency)",
  }, 'u')}
    SELECT o.*, (SELECT count(*)::integer FROM u) AS paid_now FROM o`);

/**
 * Reads the order with its sums and marks it paid when it is pending and covered (see above).
 * `paid` says whether it did; `order` and `sums` are as read under the lock, before that change.
 * Call it only when this transaction already holds the order lock (confirmPaymentRow takes it):
 * if this statement had to wait for the lock, its sums would come from before the wait.
 */
export async function lockOrderAndPayIfCovered(
  tx: EntityManager, orderId: string, actor: Actor, paidData: Record<string, unknown>, now: Date,
): Promise<{ order: Order; sums: OrderSums; paid: boolean }> {
  const [row] = await queryPrepared(tx, lockAndPaySql, [orderId, actor.type, actor.id ?? null, JSON.stringify(paidData), now]);
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  return { order: hydrate(tx, Order, row), sums: toOrderSums(row), paid: row.paid_now === 1 };
}
