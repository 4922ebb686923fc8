import { defineJob, type PluginJob } from '@kassa/core';
import type Stripe from 'stripe';
import { accountFrom, accountSelect } from '../db/stripe-rows';
import { stripeCall } from '../intents';
import { findRef, syncPayment } from '../reconcile';
import { accountContext, webhookSecretsFor } from '../stripe-account-context';
import type { StripeRuntime, StripeState } from '../stripe-state';
import { processInboxEvent, staleInboxPage, type InboxCursor } from '../webhooks/event-processor';
import { MAX_BATCH_EVENTS, PROCESS_EVENTS_JOB, PROCESS_EVENT_JOB, processEventBatch, processInLanes } from '../webhooks/event-batch';
import { eventProblem, storeEvent } from '../webhooks/webhook-route';
import { WEBHOOK_EVENTS } from '../routes/control-routes';

type JobRuntime = Pick<StripeRuntime, 'payments' | 'db' | 'settings' | 'state' | 'log' | 'baseUrl'>;
type PollRuntime = JobRuntime & Pick<StripeRuntime, 'enqueue'>;
const noPayload = (): Record<string, never> => ({});

/**
 * process-event: one stored event, with the event's id as job id: the only row of an inbox
 * statement, or a batch's event that failed (retried here with the job's attempts).
 */
export const processEventJob: PluginJob<StripeState> = defineJob({
  name: PROCESS_EVENT_JOB,
  attempts: 8,
  payload: (raw): { inboxId: string } => {
    if (typeof raw.inboxId !== 'string') throw new Error('process-event needs { inboxId }');
    return { inboxId: raw.inboxId };
  },
  processor: async ({ inboxId }, rt: StripeRuntime) => {
    await processInboxEvent(rt, inboxId);
  },
});

/**
 * process-events: the rows one inbox statement stored (webhooks arriving together), in insert
 * order; see processEventBatch. Its job id comes from the rows, so a second enqueue is a no-op.
 */
export const processEventsJob: PluginJob<StripeState> = defineJob({
  name: PROCESS_EVENTS_JOB,
  attempts: 8,
  payload: (raw): { inboxIds: string[] } => {
    const ids = raw.inboxIds;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BATCH_EVENTS || !ids.every((id) => typeof id === 'string')) {
      throw new Error(`process-events needs { inboxIds } (1 to ${MAX_BATCH_EVENTS} ids)`);
    }
    return { inboxIds: ids as string[] };
  },
  processor: async ({ inboxIds }, rt: StripeRuntime) => {
    await processEventBatch(rt, inboxIds);
  },
});

/** How long one sweep goes on paging: it runs every minute, and the next run takes over. */
const SWEEP_BUDGET_MS = 45_000;

/**
 * sweep-inbox: events stored but never processed (a lost enqueue, or failures past their retries),
 * oldest first, page after page until none is left or the budget is spent: after a long queue
 * outage the backlog can be far larger than one page. A page is processed as a batch job does it
 * (one object's events in order, a few objects side by side), but an event that fails again is
 * only logged: the sweep runs when the queue may be away, and meets the event again next minute.
 */
export async function sweepInbox(rt: JobRuntime, budgetMs = SWEEP_BUDGET_MS): Promise<void> {
  const until = performance.now() + budgetMs;
  let after: InboxCursor | undefined;
  do {
    const page = await staleInboxPage(rt, 60_000, 100, after);
    await processInLanes(rt, page.ids, (row, err) => {
      rt.log.warn('stripe: inbox event still failing', { inboxId: row.id, error: err instanceof Error ? err.message : String(err) });
    });
    after = page.next ?? undefined;
  } while (after && performance.now() < until);
}

export const sweepInboxJob: PluginJob<StripeState> = defineJob({
  name: 'sweep-inbox', repeat: { everyMs: 60_000 }, payload: noPayload, processor: (_p, rt: StripeRuntime) => sweepInbox(rt),
});

/**
 * poll-events: the fallback for accounts without a webhook secret. Lists the events created
 * since the last one seen (same second included, since `created` is not unique; the inbox's
 * unique key drops what we have), oldest first, and feeds them through the same pipeline: stored
 * together (one statement per batch), processed as a batch job would (a failing event goes on in
 * its own process-event job).
 */
export async function pollAccountEvents(rt: PollRuntime, accountId: string): Promise<{ stored: number; processed: number }> {
  const ctx = await accountContext(rt, accountId);
  // Any endpoint's secret means Stripe delivers this account's events (an endpoint gets them all).
  if (((await webhookSecretsFor(rt, accountId)) ?? []).length > 0) return { stored: 0, processed: 0 };
  const since = ctx.account.lastEventCreated ?? Math.floor(ctx.account.createdAt.getTime() / 1000) - 60;
  const events: Stripe.Event[] = await stripeCall('list events', () => ctx.stripe.events.list({
    created: { gte: since }, types: [...WEBHOOK_EVENTS].slice(0, 20), limit: 100,
  }).autoPagingToArray({ limit: 10_000 }));
  events.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  const storable = events.filter((event) => {
    // What the webhook route refuses with 400 is skipped here: it would fail the insert on every poll.
    const problem = eventProblem(event);
    if (problem) rt.log.warn('stripe: polled event skipped', { account: accountId, eventId: event.id, reason: problem });
    return problem === null;
  });
  // Stored together, in order: the inbox writer puts them in as few statements as it can.
  const ids = (await Promise.all(storable.map((event) => storeEvent(rt, accountId, event, 'poll')))).filter((id): id is string => id !== null);
  const outcomes = ids.length > 0 ? await processEventBatch(rt, ids) : [];
  const stored = ids.length;
  const processed = outcomes.filter((o) => o !== null).length;
  const newest = events.at(-1);
  if (newest) await rt.db.query('UPDATE stripe_account SET last_event_id = $2, last_event_created = $3 WHERE account_id = $1', [accountId, newest.id, newest.created]);
  return { stored, processed };
}

async function pollEvents(rt: PollRuntime): Promise<void> {
  for (const account of (await rt.db.query(accountSelect)).map(accountFrom)) {
    try {
      await pollAccountEvents(rt, account.accountId);
    } catch (err) {
      rt.log.warn('stripe: polling failed', { account: account.accountId, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

export const pollEventsJob: PluginJob<StripeState> = defineJob({
  name: 'poll-events', repeat: { everyMs: 60_000 }, payload: noPayload, processor: (_p, rt: StripeRuntime) => pollEvents(rt),
});

/**
 * sync-payments: payments still created or pending with an intent, untouched for `olderThanMs`
 * (requires_action abandoned, processing, authorizations that may have expired), re-checked
 * against Stripe. A lost webhook thus costs minutes, never a stuck order.
 */
export async function syncStuckPayments(rt: JobRuntime, olderThanMs: number, limit = 50): Promise<number> {
  const open = await rt.payments.findOpen({ provider: 'stripe', infoKey: 'intentId', olderThanMs, maxAgeMs: 30 * 86_400_000, limit });
  let synced = 0;
  for (const { id, info } of open) {
    const row = { id, intent: String(info.intentId) };
    const ref = await findRef(rt, row.intent);
    if (!ref) continue; // never reached the pay page: no account known yet, nothing can have happened at Stripe
    try {
      const ctx = await accountContext(rt, ref.account);
      await syncPayment(rt, ctx.stripe, { paymentId: row.id, intentId: row.intent, account: ref.account });
      synced += 1;
    } catch (err) {
      rt.log.warn('stripe: sync failed', { paymentId: row.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return synced;
}

export const syncPaymentsJob: PluginJob<StripeState> = defineJob({
  name: 'sync-payments', repeat: { everyMs: 5 * 60_000 }, payload: noPayload, processor: async (_p, rt: StripeRuntime) => { await syncStuckPayments(rt, 10 * 60_000); },
});
