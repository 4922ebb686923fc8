import { createWebhookDeliveries, queuedWebhookDeliveries, webhookEventTypes } from '@kassa/core/host';
import type { EventHandler } from '../outbox/event-handler';

/**
 * Turns outbox events into organizer-webhook deliveries: `apply` writes one delivery row per
 * subscribed endpoint in the effects ledger's transaction (once per event), `afterCommit`
 * enqueues a job per queued delivery of the event (deterministic job ids, so a redelivered event
 * enqueues nothing twice). No HTTP call here: the deliver-webhook job makes it.
 */
export function organizerWebhookHandler(enqueue: (deliveries: { id: string; organizerId: string }[]) => Promise<void>): EventHandler {
  return {
    name: 'kassa.organizer-webhooks',
    topics: webhookEventTypes,
    async apply(tx, event) {
      await createWebhookDeliveries(tx, event);
    },
    async afterCommit(event, ctx) {
      const queued = await queuedWebhookDeliveries(ctx.dataSource, event.id);
      if (queued.length > 0) await enqueue(queued);
    },
  };
}
