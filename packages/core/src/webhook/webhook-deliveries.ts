import type { EntityManager } from 'typeorm';
import { insertWebhookDeliveries, webhookDeliveriesOfEvent } from '../persistence/webhook.store';
import { webhookEventTypes } from './webhook-types';

/** Payload fields an outbox event may pass on to organizers' systems; anything else stays internal. */
const publicFields = ['from', 'to', 'total', 'amount', 'currency', 'cancellationFee', 'refundAmount', 'refundId', 'paymentId', 'provider', 'localId'] as const;

/** An outbox event as the jobs' handler hands it over. */
export interface WebhookSourceEvent {
  id: string;
  topic: string;
  organizerId: string | null;
  orderId: string | null;
  payload: Readonly<Record<string, unknown>>;
  createdAt: Date;
}

/** Whether organizers can subscribe to this outbox topic. */
export function isWebhookTopic(topic: string): boolean {
  return (webhookEventTypes as readonly string[]).includes(topic);
}

/**
 * Creates the deliveries of one outbox event, in the caller's transaction (the outbox handler's):
 * one per enabled endpoint of its organizer subscribed to the topic, each with the exact body it
 * will send. Returns how many were created (0 on a redelivered event).
 */
export async function createWebhookDeliveries(tx: EntityManager, event: WebhookSourceEvent): Promise<number> {
  if (!event.organizerId || !isWebhookTopic(event.topic)) return 0;
  const data: Record<string, unknown> = {};
  for (const f of publicFields) if (event.payload[f] !== undefined) data[f] = event.payload[f];
  return insertWebhookDeliveries(tx, {
    id: event.id, type: event.topic, organizerId: event.organizerId, orderId: event.orderId, createdAt: event.createdAt.toISOString(), data, state: 'queued',
  });
}

/** The deliveries of an outbox event still waiting for their first job (enqueued after the commit). */
export function queuedWebhookDeliveries(db: Pick<EntityManager, 'query'>, eventId: string): Promise<{ id: string; organizerId: string }[]> {
  return webhookDeliveriesOfEvent(db, eventId, 'queued');
}
