import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { prepared, queryPrepared, type PreparedStatement } from '../db/prepared-query';
import { KassaError } from '../errors';
import { columnList, hydrate, lockPaymentWithOrder, type OrderRef } from '../order/state-writes';
import { OrderPayment } from './order-payment.entity';
import { paymentMachine, type PaymentState } from './payment.machine';

/*
 * Step 1 of confirmPayment as one prepared statement: the compare-and-set UPDATE is the row lock
 * and the transition at once, and the audit entry and outbox event ride along in the same CTE.
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
  confirmSql ??= prepared('confirm_payment', `WITH p AS (
      UPDATE order_payment
         SET state = $2, payment_date = $3, info = CASE WHEN $4::jsonb IS NULL THEN info ELSE info || $4::jsonb END
       WHERE id = $1 AND state = ANY($5::text[])
      RETURNING ${columnList(tx, OrderPayment)}),
    o AS (SELECT o.id, o.organizer_id, o.event_id, o.code FROM kassa_order o JOIN p ON o.id = p.order_id),
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
  if (onlyFrom && !onlyFrom.includes(payment.state)) {
    throw new KassaError('PAYMENT_CONFIRM_NOT_ALLOWED', { id: paymentId, state: payment.state });
  }
  if (payment.state === 'confirmed' || payment.state === 'refunded') return { payment, order, already: true };
  paymentMachine.transition(payment.state, 'confirm');
  // Allowed now but missed by the update: it moved in between; the caller may retry.
  throw new KassaError('STATE_CONFLICT', { machine: paymentMachine.name, id: paymentId, expected: payment.state });
}
