import type { EntityManager } from 'typeorm';
import { orderMachine } from '../order/order.machine';
import { logInsertCte, outboxInsert, sqlText } from './audit-outbox';
import { edgeEffects, stateChangeCte } from './state-change';

/*
 * The expiry job's batch: due orders are moved along `expire` by one compare-and-set UPDATE that
 * writes every order's audit entry and outbox event with it (the edge's action and topic).
 */

const expireFrom = orderMachine.sourcesOf('expire');
const expireEdge = { to: orderMachine.transition(expireFrom[0]!, 'expire').to, effects: edgeEffects(orderMachine, expireFrom[0]!, 'expire') };
if (expireFrom.some((s) => orderMachine.transition(s, 'expire').to !== expireEdge.to || orderMachine.effectsOf(s, 'expire').log !== expireEdge.effects.log)) {
  throw new Error('order machine: expire must lead to one state with one effect from every source');
}
const fromList = `ANY(ARRAY[${expireFrom.map(sqlText).join(', ')}])`;

const dueSql = `SELECT c.id FROM kassa_order c
  WHERE c.status = ${fromList} AND c.expires < $1
    AND NOT EXISTS (SELECT 1 FROM order_fee f WHERE f.order_id = c.id AND f.fee_type = 'cancellation' AND NOT f.canceled)
  ORDER BY c.expires LIMIT $2 FOR UPDATE SKIP LOCKED`;

// Expiring frees seats: a trigger lowers each quota's usage counter, order by order. Taking those
// counter rows first, all at once in quota id order (reserveQuota's order), keeps a batch spanning
// several quotas from deadlocking with a buyer.
const lockCountersSql = `SELECT 1 FROM quota_usage WHERE quota_id IN (
    SELECT qp.quota_id FROM order_position op JOIN quota_product qp ON qp.product_id = op.product_id
     WHERE op.order_id = ANY($1::uuid[]) AND NOT op.canceled)
  ORDER BY quota_id FOR NO KEY UPDATE`;

const expireSql = `WITH ${stateChangeCte('u', {
  table: 'kassa_order', alias: 'o', column: 'status', to: sqlText(expireEdge.to), from: `status = ${fromList}`, where: 'o.id = ANY($1::uuid[])',
  set: ['updated_at = now()'], returning: 'o.id, o.organizer_id, o.event_id, o.code, o.expires',
})},
    ${logInsertCte('entry', {
  organizerId: 'u.organizer_id', eventId: 'u.event_id', orderId: 'u.id', objectType: sqlText('order'), objectId: 'u.id',
  action: sqlText(expireEdge.effects.log), actorType: sqlText('system'), actorId: 'NULL',
  data: `jsonb_build_object('expires', to_char(u.expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'now', $2::text)`,
}, 'u')}
    ${outboxInsert({
  topic: sqlText(expireEdge.effects.topic), organizerId: 'u.organizer_id', orderId: 'u.id', payload: "jsonb_build_object('orderId', u.id, 'code', u.code)",
}, 'u')}
    RETURNING order_id`;

/**
 * Expires up to `batchSize` orders whose deadline passed before `now` (rows locked by a concurrent
 * payment are skipped and picked up next run; orders kept pending by a cancellation fee do not
 * expire). Call inside a transaction. Returns how many expired.
 */
export async function expireDueOrders(tx: EntityManager, now: Date, batchSize: number): Promise<number> {
  const due: { id: string }[] = await tx.query(dueSql, [now, batchSize]);
  if (due.length === 0) return 0;
  const ids = due.map((r) => r.id);
  await tx.query(lockCountersSql, [ids]);
  const rows: unknown[] = await tx.query(expireSql, [ids, now.toISOString()]);
  return rows.length;
}
