/*
 * The Stripe plugin's own tables (created by migrations/), read and written through the port's
 * db handle. Core's tables are never touched here: payments and refunds go through rt.payments.
 */

/**
 * A Stripe account Kassa receives webhooks from, and which settings level holds its keys, so the
 * webhook route (which knows only the account in its path) can find the signing secrets and the
 * jobs can re-fetch objects with the right key. The polling cursor lives here too.
 */
export interface StripeAccount {
  /** acct_… */
  readonly accountId: string;
  readonly scope: 'global' | 'organizer' | 'event';
  readonly organizerId: string | null;
  readonly eventId: string | null;
  readonly livemode: boolean;
  readonly webhookEndpointId: string | null;
  /** Polling fallback: newest event seen (id and its `created`, unix seconds). */
  readonly lastEventId: string | null;
  readonly lastEventCreated: number | null;
  readonly createdAt: Date;
}

/** One verified webhook event, stored before we answer 2xx; unique per (account, event id). */
export interface StripeWebhookInbox {
  readonly id: string;
  readonly account: string;
  readonly eventId: string;
  readonly type: string;
  /** data.object.id and data.object.object: the object to re-fetch. */
  readonly objectId: string;
  readonly objectType: string;
  /** The payment intent the object belongs to, when the payload names it (routing only, never trusted for money). */
  readonly intentId: string | null;
  readonly processedAt: Date | null;
  readonly failedAt: Date | null;
  /** What processing concluded, for the control panel and debugging ("confirmed", "not ours", …). */
  readonly outcome: string | null;
}

/** Stripe object id (pi_, ch_, re_, du_) → our payment (and refund). */
export interface StripeObjectRef {
  readonly objectId: string;
  readonly kind: 'payment_intent' | 'charge' | 'refund' | 'dispute';
  readonly account: string;
  readonly paymentId: string;
  readonly refundId: string | null;
}

const accountColumns = 'account_id, scope, organizer_id, event_id, livemode, webhook_endpoint_id, last_event_id, last_event_created::text AS last_event_created, created_at';

/** SELECT list and mapper of stripe_account. */
export const accountSelect = `SELECT ${accountColumns} FROM stripe_account`;

export function accountFrom(r: Record<string, unknown>): StripeAccount {
  return {
    accountId: String(r.account_id), scope: r.scope as StripeAccount['scope'], organizerId: (r.organizer_id as string | null) ?? null,
    eventId: (r.event_id as string | null) ?? null, livemode: r.livemode === true, webhookEndpointId: (r.webhook_endpoint_id as string | null) ?? null,
    lastEventId: (r.last_event_id as string | null) ?? null, lastEventCreated: r.last_event_created === null || r.last_event_created === undefined ? null : Number(r.last_event_created),
    createdAt: new Date(r.created_at as string),
  };
}

export const inboxSelect = 'SELECT id, account, event_id, type, object_id, object_type, intent_id, processed_at, failed_at, outcome FROM stripe_webhook_inbox';

export function inboxFrom(r: Record<string, unknown>): StripeWebhookInbox {
  return {
    id: String(r.id), account: String(r.account), eventId: String(r.event_id), type: String(r.type), objectId: String(r.object_id),
    objectType: String(r.object_type), intentId: (r.intent_id as string | null) ?? null,
    processedAt: r.processed_at ? new Date(r.processed_at as string) : null, failedAt: r.failed_at ? new Date(r.failed_at as string) : null,
    outcome: (r.outcome as string | null) ?? null,
  };
}
