/**
 * Organizer webhooks (pretix's webhooks): an organizer's own systems are told when an order is
 * placed, paid or canceled, or a refund is done. The event types are outbox topics: a delivery is
 * born from the outbox event committed with the change, so nothing is announced that did not happen.
 */
export const webhookEventTypes = ['order.placed', 'order.paid', 'order.canceled', 'refund.done'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** A delivery's life: queued (first try or a retry due), delivered (2xx), undeliverable (attempts used up). */
export const webhookDeliveryStates = ['queued', 'delivered', 'undeliverable'] as const;
export type WebhookDeliveryState = (typeof webhookDeliveryStates)[number];

/** An endpoint as the control panel and the API show it; the secret is never part of it. */
export interface WebhookEndpoint {
  id: string;
  organizerId: string;
  url: string;
  eventTypes: WebhookEventType[];
  enabled: boolean;
  comment: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookDeliverySummary {
  id: string;
  endpointId: string;
  /** The outbox event it announces; null for a test ping. */
  outboxEventId: string | null;
  eventType: string;
  state: WebhookDeliveryState;
  attempts: number;
  responseStatus: number | null;
  error: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
}

/** One delivery with what was sent and what came back. */
export interface WebhookDelivery extends WebhookDeliverySummary {
  payload: Record<string, unknown>;
  responseBody: string | null;
}

/** What the delivery job needs: the body, where to send it, and the endpoint's sealed secret. */
export interface WebhookDeliveryJobRow {
  id: string;
  organizerId: string;
  endpointId: string;
  url: string;
  enabled: boolean;
  state: WebhookDeliveryState;
  payload: Record<string, unknown>;
  sealedSecret: unknown;
}
