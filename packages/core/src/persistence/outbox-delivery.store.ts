import type { EntityManager } from 'typeorm';
import type { OutboxDeliveryState } from '../outbox/outbox-delivery.entity';
import type { OutboxEventRef } from './outbox-relay.store';

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
 * event retried from the control panel ends `done`) and marks the next unrelayed event of its
 * order relayed, in one statement; returns that next event, for the caller to enqueue after its
 * commit. Runs in the caller's transaction when given one.
 */
export async function recordOutboxDelivery(db: Db, d: OutboxDeliveryRecord): Promise<OutboxEventRef[]> {
  const rows: { id: string; topic: string; order_id: string | null }[] = await db.query(
    `WITH delivery AS (
       INSERT INTO outbox_delivery (event_id, order_id, state, error, finished_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (event_id) DO UPDATE SET state = EXCLUDED.state, error = EXCLUDED.error, finished_at = EXCLUDED.finished_at
     ), successor AS (
       UPDATE outbox_event SET relayed_at = now()
        WHERE id = (SELECT n.id FROM outbox_event n
                     WHERE n.order_id = $2 AND n.id > $1 AND n.relayed_at IS NULL ORDER BY n.id LIMIT 1)
          AND relayed_at IS NULL
        RETURNING id, topic, order_id
     )
     SELECT id::text AS id, topic, order_id FROM successor`,
    [d.eventId, d.orderId, d.state, d.error, d.finishedAt],
  );
  return rows.map((r) => ({ id: r.id, topic: r.topic, orderId: r.order_id }));
}
