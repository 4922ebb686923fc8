import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { prepared, queryPrepared, type PreparedStatement } from '../db/prepared-query';
import { KassaError } from '../errors';
import { Order } from '../order/order.entity';
import { orderSumsColumns, orderSumsJoins, toOrderSums, type OrderSums } from '../order/order-sums';
import { columnList, hydrate, lockPaymentWithOrder, type OrderRef } from '../order/state-writes';
import { OrderPayment } from './order-payment.entity';
import { paymentMachine, type PaymentState } from './payment.machine';

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
 * The log/outbox columns and the data/payload keys are those `record` writes for
 * kassa.order.payment.confirmed; a change there must be mirrored here.
 */

const confirmTarget = paymentMachine.transition('created', 'confirm');
const confirmSources = paymentMachine.sourcesOf('confirm');
// Every source goes to the same target, so one statement serves them all.
if (confirmSources.some((s) => paymentMachine.transition(s, 'confirm') !== confirmTarget)) {
  throw new Error('payment machine: confirm must lead to one state from every source');
}

let confirmSql: PreparedStatement | undefined;

function confirmStatement(tx: EntityManager): PreparedStatement {
  confirmSql ??= prepared('confirm_payment', `WITH o AS (
      SELECT o.id, o.organizer_id, o.event_id, o.code FROM kassa_order o
       WHERE o.id = (SELECT order_id FROM order_payment WHERE id = $1)
         FOR UPDATE),
    p AS (
      UPDATE order_payment
         SET state = $2, payment_date = $3, info = CASE WHEN $4::jsonb IS NULL THEN info ELSE info || $4::jsonb END
       WHERE id = $1 AND state = ANY($5::text[]) AND order_id = (SELECT id FROM o)
      RETURNING ${columnList(tx, OrderPayment)}),
    entry AS (
      INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
      SELECT o.organizer_id, o.event_id, o.id, 'payment', p.id, 'kassa.order.payment.confirmed', $6::text, $7::text,
             jsonb_build_object('localId', p.local_id, 'provider', p.provider, 'amount', p.amount)
        FROM p, o),
    ev AS (
      INSERT INTO outbox_event (topic, organizer_id, order_id, payload)
      SELECT 'payment.confirmed', o.organizer_id, o.id,
             jsonb_build_object('orderId', o.id, 'code', o.code, 'paymentId', p.id, 'provider', p.provider, 'amount', p.amount, 'currency', p.currency)
        FROM p, o)
    SELECT p.*, o.organizer_id AS order_organizer_id, o.event_id AS order_event_id, o.code AS order_code FROM p, o`);
  return confirmSql;
}

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
  const [row] = await queryPrepared(tx, confirmStatement(tx), [
    paymentId, confirmTarget, paymentDate, opts.info ? JSON.stringify(opts.info) : null, allowed, opts.actor.type, opts.actor.id ?? null,
  ]);
  if (row) {
    const payment = hydrate(tx, OrderPayment, row);
    return { payment, already: false, order: { id: payment.orderId, organizerId: String(row.order_organizer_id), eventId: String(row.order_event_id), code: String(row.order_code) } };
  }
  const { payment, order } = await lockPaymentWithOrder(tx, paymentId);
  // Confirmed before the narrowing: of confirmations sent at once (an organizer's double click, an
  // API client's retries) one wins and every other one is a repeat, answered as such, not refused.
  if (payment.state === 'confirmed') return { payment, order, already: true };
  if (onlyFrom && !onlyFrom.includes(payment.state)) {
    throw new KassaError('PAYMENT_CONFIRM_NOT_ALLOWED', { id: paymentId, state: payment.state });
  }
  if (payment.state === 'refunded') return { payment, order, already: true };
  paymentMachine.transition(payment.state, 'confirm');
  // Allowed now but missed by the update: it moved in between; the caller may retry.
  throw new KassaError('STATE_CONFLICT', { machine: paymentMachine.name, id: paymentId, expected: payment.state });
}

let lockAndPaySql: PreparedStatement | undefined;

/*
 * Step 2's common case in one statement: lock the order row with its sums and, when it is pending
 * and the payments now cover the total, mark it paid with its kassa.order.paid log entry and
 * order.paid event (the data and payload `record` would write). Every other case (paid, canceled,
 * partial, expired, past the last date of payments) comes back unchanged, with the order still locked and its sums read, for the
 * caller to decide as before.
 */
function lockAndPayStatement(tx: EntityManager): PreparedStatement {
  lockAndPaySql ??= prepared('lock_order_pay_if_covered', `WITH o AS (
      SELECT ${columnList(tx, Order, 'o')},
        ${orderSumsColumns}
        FROM kassa_order o ${orderSumsJoins}
       WHERE o.id = $1
         FOR UPDATE OF o),
    u AS (
      UPDATE kassa_order k SET status = 'paid', updated_at = now()
        FROM o
       WHERE k.id = o.id AND k.status = 'pending' AND o.status = 'pending' AND o."paymentRefundSum" >= o.total
         -- After the event's last date of payments the caller decides (order-payability.ts).
         AND NOT EXISTS (SELECT 1 FROM event e WHERE e.id = o.event_id AND e.payment_term_last < $5)
      RETURNING k.id, k.organizer_id, k.event_id, k.code, k.total, k.currency),
    entry AS (
      INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
      SELECT u.organizer_id, u.event_id, u.id, 'order', u.id, 'kassa.order.paid', $2::text, $3::text, $4::jsonb FROM u),
    ev AS (
      INSERT INTO outbox_event (topic, organizer_id, order_id, payload)
      SELECT 'order.paid', u.organizer_id, u.id, jsonb_build_object('orderId', u.id, 'code', u.code, 'total', u.total, 'currency', u.currency) FROM u)
    SELECT o.*, (SELECT count(*)::integer FROM u) AS paid_now FROM o`);
  return lockAndPaySql;
}

/**
 * Reads the order with its sums and marks it paid when it is pending and covered (see above).
 * `paid` says whether it did; `order` and `sums` are as read under the lock, before that change.
 * Call it only when this transaction already holds the order lock (confirmPaymentRow takes it):
 * if this statement had to wait for the lock, its sums would come from before the wait.
 */
export async function lockOrderAndPayIfCovered(
  tx: EntityManager, orderId: string, actor: Actor, paidData: Record<string, unknown>, now: Date,
): Promise<{ order: Order; sums: OrderSums; paid: boolean }> {
  const [row] = await queryPrepared(tx, lockAndPayStatement(tx), [orderId, actor.type, actor.id ?? null, JSON.stringify(paidData), now]);
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  return { order: hydrate(tx, Order, row), sums: toOrderSums(row), paid: row.paid_now === 1 };
}
