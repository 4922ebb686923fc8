import type { EntityManager } from 'typeorm';
import { LogEntry, type ActorType } from './log-entry.entity';

export interface Actor {
  type: ActorType;
  id?: string | null;
}

export const systemActor: Actor = { type: 'system' };

export interface LogActionInput {
  organizerId?: string | null;
  eventId?: string | null;
  orderId?: string | null;
  objectType: string;
  objectId: string;
  action: string;
  actor: Actor;
  data?: Record<string, unknown>;
}

/** Writes an audit entry with the caller's transaction, so the log and the change commit together. */
export async function logAction(tx: EntityManager, input: LogActionInput): Promise<void> {
  await tx.insert(LogEntry, {
    organizerId: input.organizerId ?? null,
    eventId: input.eventId ?? null,
    orderId: input.orderId ?? null,
    objectType: input.objectType,
    objectId: input.objectId,
    action: input.action,
    actorType: input.actor.type,
    actorId: input.actor.id ?? null,
    data: (input.data ?? {}) as object,
  });
}
