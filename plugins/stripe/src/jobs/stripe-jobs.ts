import { type PluginJobProcessor, type PluginRuntime } from '@kassa/core';
import type Stripe from 'stripe';
import { StripeAccount, StripeObjectRef } from '../entities/stripe-entities';
import { stripeCall } from '../intents';
import { syncPayment } from '../reconcile';
import { accountContext, webhookSecretsFor } from '../stripe-account-context';
import { processInboxEvent, staleInboxIds } from '../webhooks/event-processor';
import { eventProblem, storeEvent } from '../webhooks/webhook-route';
import { WEBHOOK_EVENTS } from '../routes/control-routes';

/** process-event: one stored event, enqueued by the webhook route with the event's id as job id. */
export const processEventJob: PluginJobProcessor = async (payload, rt) => {
  const inboxId = payload.inboxId;
  if (typeof inboxId !== 'string') throw new Error('process-event needs { inboxId }');
  await processInboxEvent(rt, inboxId);
};

/** sweep-inbox: events stored but never processed (a lost enqueue, or failures past their retries). */
export const sweepInboxJob: PluginJobProcessor = async (_payload, rt) => {
  for (const id of await staleInboxIds(rt, 60_000)) {
    try {
      await processInboxEvent(rt, id);
    } catch (err) {
      rt.log.warn('stripe: inbox event still failing', { inboxId: id, error: err instanceof Error ? err.message : String(err) });
    }
  }
};

/**
 * poll-events: the fallback for accounts without a webhook secret. Lists the events created
 * since the last one seen (same second included, since `created` is not unique; the inbox's
 * unique key drops what we have), oldest first, and feeds them through the same pipeline.
 */
export async function pollAccountEvents(rt: Pick<PluginRuntime, 'core' | 'dataSource' | 'settings' | 'log'>, accountId: string): Promise<{ stored: number; processed: number }> {
  const ctx = await accountContext(rt, accountId);
  // Any endpoint's secret means Stripe delivers this account's events (an endpoint gets them all).
  if (((await webhookSecretsFor(rt, accountId)) ?? []).length > 0) return { stored: 0, processed: 0 };
  const since = ctx.account.lastEventCreated ?? Math.floor(ctx.account.createdAt.getTime() / 1000) - 60;
  const events: Stripe.Event[] = await stripeCall('list events', () => ctx.stripe.events.list({
    created: { gte: since }, types: [...WEBHOOK_EVENTS].slice(0, 20), limit: 100,
  }).autoPagingToArray({ limit: 10_000 }));
  events.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  let stored = 0;
  let processed = 0;
  for (const event of events) {
    // What the webhook route refuses with 400 is skipped here: it would fail the insert on every poll.
    const problem = eventProblem(event);
    if (problem) {
      rt.log.warn('stripe: polled event skipped', { account: accountId, eventId: event.id, reason: problem });
      continue;
    }
    const inboxId = await storeEvent(rt, accountId, event, 'poll');
    if (inboxId === null) continue;
    stored += 1;
    try {
      await processInboxEvent(rt, inboxId);
      processed += 1;
    } catch (err) {
      rt.log.warn('stripe: polled event failed; the sweep retries it', { inboxId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const newest = events.at(-1);
  if (newest) await rt.dataSource.getRepository(StripeAccount).update({ accountId }, { lastEventId: newest.id, lastEventCreated: newest.created });
  return { stored, processed };
}

export const pollEventsJob: PluginJobProcessor = async (_payload, rt) => {
  for (const account of await rt.dataSource.getRepository(StripeAccount).find()) {
    try {
      await pollAccountEvents(rt, account.accountId);
    } catch (err) {
      rt.log.warn('stripe: polling failed', { account: account.accountId, error: err instanceof Error ? err.message : String(err) });
    }
  }
};

/**
 * sync-payments: payments still created or pending with an intent, untouched for `olderThanMs`
 * (requires_action abandoned, processing, authorizations that may have expired), re-checked
 * against Stripe. A lost webhook thus costs minutes, never a stuck order.
 */
export async function syncStuckPayments(rt: Pick<PluginRuntime, 'core' | 'dataSource' | 'settings' | 'log'>, olderThanMs: number, limit = 50): Promise<number> {
  const rows: { id: string; intent: string }[] = await rt.dataSource.query(
    `SELECT p.id, p.info->>'intentId' AS intent FROM order_payment p
     WHERE p.provider = 'stripe' AND p.state IN ('created', 'pending') AND p.info ? 'intentId'
       AND p.created_at < now() - ($1::int * interval '1 millisecond') AND p.created_at > now() - interval '30 days'
     ORDER BY p.created_at LIMIT $2`, [olderThanMs, limit],
  );
  let synced = 0;
  for (const row of rows) {
    const ref = await rt.dataSource.manager.findOneBy(StripeObjectRef, { objectId: row.intent });
    if (!ref) continue; // never reached the pay page: no account known yet, nothing can have happened at Stripe
    try {
      const ctx = await accountContext(rt, ref.account);
      await syncPayment({ core: rt.core, dataSource: rt.dataSource }, ctx.stripe, { paymentId: row.id, intentId: row.intent, account: ref.account });
      synced += 1;
    } catch (err) {
      rt.log.warn('stripe: sync failed', { paymentId: row.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return synced;
}

export const syncPaymentsJob: PluginJobProcessor = async (_payload, rt) => {
  await syncStuckPayments(rt, 10 * 60_000);
};
