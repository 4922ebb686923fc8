import type { DataSource } from 'typeorm';
import type { ActorType } from '../audit/log-entry.entity';
import { logInsert, type ActorRef } from './audit-outbox';

/** An entry of an event's own log (one that concerns no single order). */
export interface EventLogRow {
  id: string;
  action: string;
  objectType: string;
  objectId: string;
  actorType: ActorType;
  actorId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

const onceSql = logInsert(
  { organizerId: '$1::uuid', eventId: '$2::uuid', orderId: 'NULL::uuid', objectType: "'event'", objectId: '$2::text', action: '$3::text', actorType: '$4::text', actorId: '$5::text', data: '$6::jsonb' },
  `(SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM log_entry WHERE event_id = $2::uuid AND order_id IS NULL AND action = $3::text AND data->>'taskId' = $7::text)) AS once`,
);

/**
 * Writes one entry to the event's own log for a task (at most one per task and action: a retried
 * job does not log twice), e.g. the data shredder's "personal data of N orders removed".
 */
export async function writeEventTaskLog(ds: DataSource, e: {
  organizerId: string; eventId: string; action: string; actor: ActorRef; taskId: string; data: Record<string, unknown>;
}): Promise<void> {
  await ds.query(onceSql, [e.organizerId, e.eventId, e.action, e.actor.type, e.actor.id ?? null, JSON.stringify({ ...e.data, taskId: e.taskId }), e.taskId]);
}

/** The event's own log entries (of no order), newest first; [] for another organizer's event. */
export async function eventLogEntries(ds: DataSource, organizerId: string, eventId: string, limit: number): Promise<EventLogRow[]> {
  return ds.query(
    `SELECT id::text AS id, action, object_type AS "objectType", object_id AS "objectId", actor_type AS "actorType", actor_id AS "actorId", data,
            created_at AS "createdAt"
       FROM log_entry WHERE event_id = $2 AND order_id IS NULL AND organizer_id = $1 ORDER BY id DESC LIMIT $3`,
    [organizerId, eventId, limit],
  );
}
