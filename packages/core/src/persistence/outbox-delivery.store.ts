import type { EntityManager } from 'typeorm';
import { prepared, queryPrepared } from '../db/prepared-query';
import type { OutboxDeliveryState } from '../outbox/outbox-delivery.entity';
import type { OutboxEventRef, OutboxEventRow } from './outbox-relay.store';

type Db = Pick<EntityManager, 'query'>;

/**
 * Claims the effect of `handler` on one event in the effects ledger (`outbox_effect`), inside the
 * caller's transaction: true the first time, false when it was claimed before (a redelivery), so
 * the caller applies its effect once. The claim commits or rolls back with the effect.
 */
export async function claimOutboxEffect(tx: Db, handler: string, eventId: string): Promise<boolean> {
  const claimed: unknown[] = await tx.query(
    `INSERT INTO outbox_effect (handler, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
    [handler, eventId],
  );
  return claimed.length > 0;
}

export interface OutboxDeliveryRecord {
  readonly eventId: string;
  readonly orderId: string | null;
  readonly state: OutboxDeliveryState;
  readonly error: string | null;
  readonly finishedAt: Date;
}

/**
 * Records the end of an event's handling (a later record of the same event replaces it: a failed
 * event retried from the control panel ends `done`) and marks the next event of its order
 * relayed unless it is already (then its own delivery hands the line on: events of an order are
 * relayed one after the other), in one statement; returns that next event, for the caller to
 * enqueue after its commit. Runs in the caller's transaction when given one.
 */
export async function recordOutboxDelivery(db: Db, d: OutboxDeliveryRecord): Promise<OutboxEventRef[]> {
  const rows: { id: string; topic: string; order_id: string | null }[] = await db.query(
    `WITH delivery AS (
       INSERT INTO outbox_delivery (event_id, order_id, state, error, finished_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (event_id) DO UPDATE SET state = EXCLUDED.state, error = EXCLUDED.error, finished_at = EXCLUDED.finished_at
     ), successor AS (
       UPDATE outbox_event SET relayed_at = now()
        WHERE id = (SELECT n.id FROM outbox_event n WHERE n.order_id = $2 AND n.id > $1 ORDER BY n.id LIMIT 1)
          AND relayed_at IS NULL
        RETURNING id, topic, order_id
     )
     SELECT id::text AS id, topic, order_id FROM successor`,
    [d.eventId, d.orderId, d.state, d.error, d.finishedAt],
  );
  return rows.map((r) => ({ id: r.id, topic: r.topic, orderId: r.order_id }));
}

/** One handler's effect on one event, to claim in the effects ledger. */
export interface OutboxEffectClaim {
  readonly handler: string;
  readonly eventId: string;
}

/** The ledger key of a claim, as {@link settleOutboxBatch} reports the claimed ones. */
export const outboxEffectKey = (handler: string, eventId: string): string => `${handler}\u0000${eventId}`;

// One text for every batch size (arrays through unnest), so it is prepared once per connection.
const settleBatchSql = prepared('outbox_settle_batch', `WITH claimed AS (
     INSERT INTO outbox_effect (handler, event_id)
     SELECT c.handler, c.event_id FROM unnest($1::text[], $2::bigint[]) AS c(handler, event_id)
     ON CONFLICT DO NOTHING
     RETURNING handler, event_id
   ), delivery AS (
     INSERT INTO outbox_delivery (event_id, order_id, state, error, finished_at)
     SELECT r.event_id, r.order_id, r.state, r.error, r.finished_at
       FROM unnest($3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[]) AS r(event_id, order_id, state, error, finished_at)
     ON CONFLICT (event_id) DO UPDATE SET state = EXCLUDED.state, error = EXCLUDED.error, finished_at = EXCLUDED.finished_at
   ), successor AS (
     -- Driven by the delivered events' next ids (a join, probing by primary key): a test of every
     -- unrelayed event against them would cost as much as the backlog.
     UPDATE outbox_event e SET relayed_at = now()
       FROM (SELECT DISTINCT (SELECT n.id FROM outbox_event n WHERE n.order_id = r.order_id AND n.id > r.event_id ORDER BY n.id LIMIT 1) AS id
               FROM unnest($3::bigint[], $4::uuid[]) AS r(event_id, order_id) WHERE r.order_id IS NOT NULL) nx
      WHERE e.id = nx.id AND e.relayed_at IS NULL
      RETURNING e.id, e.topic, e.order_id, e.organizer_id, e.payload, e.created_at
   )
   SELECT true AS claim, handler, event_id::text AS id, NULL::text AS topic, NULL::uuid AS order_id,
          NULL::uuid AS organizer_id, NULL::jsonb AS payload, NULL::timestamptz AS created_at, NULL::boolean AS blocked
     FROM claimed
   UNION ALL
   SELECT false, NULL, s.id::text, s.topic, s.order_id, s.organizer_id, s.payload, s.created_at,
          EXISTS (SELECT 1 FROM outbox_event p
                   WHERE p.order_id = s.order_id AND p.id < s.id AND p.id <> ALL($3::bigint[])
                     AND NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.event_id = p.id))
     FROM successor s`);

/**
 * Many events' ledger claims and delivery records in one statement, in the caller's transaction
 * (the event jobs running at once share it): claims each (handler, event) pair (a pair claimed
 * before is not returned), records the deliveries (as {@link recordOutboxDelivery}, one per
 * event id) and marks each delivered event's order's next event relayed (unless it is already). Recording the
 * delivery before the effects is safe because both commit or roll back together.
 */
export async function settleOutboxBatch(
  tx: EntityManager, claims: readonly OutboxEffectClaim[], deliveries: readonly OutboxDeliveryRecord[],
): Promise<{ claimed: Set<string>; next: SettledSuccessor[] }> {
  const rows = await queryPrepared<{
    claim: boolean; handler: string | null; id: string; topic: string | null; order_id: string | null;
    organizer_id: string | null; payload: Record<string, unknown> | null; created_at: Date | null; blocked: boolean | null;
  }>(tx, settleBatchSql, [
    claims.map((c) => c.handler), claims.map((c) => c.eventId),
    deliveries.map((d) => d.eventId), deliveries.map((d) => d.orderId), deliveries.map((d) => d.state), deliveries.map((d) => d.error),
    deliveries.map((d) => d.finishedAt),
  ]);
  const claimed = new Set<string>();
  const next: SettledSuccessor[] = [];
  for (const r of rows) {
    if (r.claim) claimed.add(outboxEffectKey(r.handler!, r.id));
    else {
      const event: OutboxEventRow = { id: r.id, topic: r.topic!, orderId: r.order_id, organizerId: r.organizer_id, payload: r.payload ?? {}, createdAt: r.created_at! };
      next.push({ id: r.id, topic: r.topic!, orderId: r.order_id, loaded: { event, blocked: r.blocked === true } });
    }
  }
  return { claimed, next };
}

/**
 * An order's next event as {@link settleOutboxBatch} marked it relayed, already loaded for its
 * delivery (so the job that runs it next needs no read): `blocked` when an earlier event of its
 * order, other than those settled in the same statement, has no delivery record yet.
 */
export interface SettledSuccessor extends OutboxEventRef {
  readonly loaded: { readonly event: OutboxEventRow; readonly blocked: boolean };
}
