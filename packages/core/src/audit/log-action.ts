import type { EntityManager } from 'typeorm';
import { writeLogAndEvent } from '../persistence/audit-outbox';
import type { ActorType } from './log-entry.entity';

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

/** Writes an audit entry with the caller's transaction, so the log and the change commit together (through the persistence kernel). */
export async function logAction(tx: EntityManager, input: LogActionInput): Promise<void> {
  await writeLogAndEvent(tx, input);
}
