/**
 * Every queue, job name and payload in one place: the only file that spells a queue name.
 * Payloads carry ids, never copies of rows, so a retried job always reads the current state.
 */

import { createHash } from 'node:crypto';

export const queueNames = {
  /** Outbox events: one job per event, or one for several orders' next events; runs their handlers in order per order. */
  events: 'kassa-events',
  /** One job per stored email that has to go out over SMTP. */
  emails: 'kassa-emails',
  /** Periodic work (job schedulers): expiry, reminders, the host's maintenance tasks; and the delayed action-required email. */
  maintenance: 'kassa-maintenance',
  /** Plugins' jobs: enqueued by the plugin (e.g. a webhook's processing) or by their schedulers. */
  plugins: 'kassa-plugins',
  /** One job per organizer-webhook delivery (an HTTP POST to the organizer's own system). */
  webhooks: 'kassa-webhooks',
  /** The host's on-demand work for an organizer (exports, the data shredder): one job per task row. */
  tasks: 'kassa-tasks',
} as const;

export type QueueKey = keyof typeof queueNames;
export type QueueName = (typeof queueNames)[QueueKey];

export interface DeliverEventPayload {
  /** outbox_event.id (bigint, as a string). */
  eventId: string;
  topic: string;
  orderId: string | null;
}

/**
 * The next events of several orders (or events of no order), relayed together: one job instead of
 * one per event, since a queue round trip costs more than an event's own work. Each event runs as
 * a `deliver-event` job would; one that fails goes on in a `deliver-event` job of its own.
 */
export interface DeliverEventsPayload {
  /** outbox_event ids (bigints, as strings), at most one per order. */
  eventIds: string[];
}

export interface SendEmailPayload {
  /** email_message.id */
  emailId: string;
}

export type MaintenancePayload = Record<string, never>;

/** The delayed look at a payment that asked for the buyer's action: email them if it still waits. */
export interface ActionRequiredCheckPayload {
  /** outbox_event.id of the payment.action_required event. */
  eventId: string;
  /** Whose it is (the failed-jobs list scopes by them); the processor reads the event itself. */
  organizerId: string | null;
  orderId: string | null;
}

export interface PluginJobPayload {
  plugin: string;
  job: string;
  /** What the plugin passed to enqueue (empty for scheduled runs). */
  payload: Record<string, unknown>;
  /**
   * The organizer the job concerns, set by the host from where it was enqueued (a control or API
   * route's organizer, the job or event it was enqueued from), never from the plugin's payload;
   * null for instance-wide jobs (schedulers, webhooks). The control panel scopes failed jobs by it.
   */
  organizerId: string | null;
}

export interface DeliverWebhookPayload {
  /** webhook_delivery.id */
  deliveryId: string;
  /** Whose it is, copied from the delivery row when enqueued (the failed-jobs list scopes by it). */
  organizerId: string;
}

/** One of the host's declared jobs (JobsRuntimeOptions.hostJobs), enqueued by the host for an organizer. */
export interface HostJobPayload {
  job: string;
  payload: Record<string, unknown>;
  /** Whose work it is (the failed-jobs list scopes by it); null for the instance's. */
  organizerId: string | null;
}

/** Job names per queue and the payload each carries. */
export interface QueuePayloads {
  events: { 'deliver-event': DeliverEventPayload; 'deliver-events': DeliverEventsPayload };
  emails: { 'send-email': SendEmailPayload };
  maintenance: {
    'expire-orders': MaintenancePayload;
    'send-payment-reminders': MaintenancePayload;
    'send-action-required-email': ActionRequiredCheckPayload;
    'charge-instalments': MaintenancePayload;
  };
  plugins: { 'plugin-job': PluginJobPayload };
  webhooks: { 'deliver-webhook': DeliverWebhookPayload };
  tasks: { 'host-job': HostJobPayload };
}

export type JobName<Q extends QueueKey> = keyof QueuePayloads[Q] & string;
export type JobPayload<Q extends QueueKey, N extends JobName<Q> = JobName<Q>> = QueuePayloads[Q][N];

/**
 * Deterministic job ids: enqueuing the same cause twice (a relay that crashed before marking the
 * event relayed, a handler retried after it enqueued) yields one job. BullMQ refuses ':' and
 * integer-only ids, hence the prefixes.
 */
export const jobIds = {
  deliverEvent: (eventId: string): string => `event-${eventId}`,
  /**
   * A batch of events, named by all of them (the first id, how many, a digest of the rest): the
   * same batch relayed twice is one job, and a batch that differs by one event is another.
   */
  deliverEvents: (eventIds: readonly string[]): string =>
    `events-${eventIds[0]}-${eventIds.length}-${createHash('sha1').update(eventIds.join(',')).digest('hex').slice(0, 12)}`,
  sendEmail: (emailId: string): string => `email-${emailId}`,
  actionRequiredCheck: (eventId: string): string => `action-required-${eventId}`,
  /** The first delivery of a webhook; a retry asked for by the organizer adds the attempts made so far. */
  deliverWebhook: (deliveryId: string, retryAfterAttempts?: number): string =>
    (retryAfterAttempts === undefined ? `webhook-${deliveryId}` : `webhook-${deliveryId}-retry-${retryAfterAttempts}`),
};

/** Scheduler ids of the built-in periodic jobs (a host's maintenance task is scheduled under its name). */
export const schedulerIds = {
  expireOrders: 'expire-orders',
  paymentReminders: 'send-payment-reminders',
  chargeInstalments: 'charge-instalments',
  plugin: (plugin: string, job: string): string => `plugin-${plugin}-${job}`,
};
