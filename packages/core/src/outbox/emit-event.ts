import type { EntityManager } from 'typeorm';
import { writeEvent } from '../persistence/audit-outbox';

/** Domain event topics core emits. Plugins may emit their own, prefixed with their name. */
export const outboxTopics = [
  'order.placed',
  'order.paid',
  'order.expired',
  'order.canceled',
  'order.overpaid',
  'order.quota_exceeded',
  'order.changed',
  'payment.created',
  'payment.confirmed',
  'payment.failed',
  'payment.canceled',
  'payment.action_required',
  'payment.on_closed_order',
  'refund.created',
  'refund.done',
  'refund.failed',
  'refund.canceled',
  'refund.external',
  'refund.requested',
] as const;
export type OutboxTopic = (typeof outboxTopics)[number] | `${string}.${string}`;

export interface EmitEventInput {
  topic: OutboxTopic;
  organizerId?: string | null;
  orderId?: string | null;
  payload?: Record<string, unknown>;
}

/** Writes the event with the caller's transaction: committed together with the change, or not at all (through the persistence kernel). */
export async function emitEvent(tx: EntityManager, input: EmitEventInput): Promise<void> {
  await writeEvent(tx, input);
}
