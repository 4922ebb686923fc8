import { KassaError, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntime } from '@kassa/core';
import type Stripe from 'stripe';
import { webhookSecretsFor } from '../stripe-account-context';
import { verifyWebhook } from '../webhook-signature';
import { inboxWriterFor } from './inbox-writer';

/** The job that processes one stored event. */
export const PROCESS_EVENT_JOB = 'process-event';

/** The deterministic job id of an event: a second enqueue of the same event is a no-op. */
export function eventJobId(account: string, eventId: string): string {
  return `stripe:${account}:${eventId}`;
}

function refusal(err: KassaError): PluginHttpResponse {
  return { status: err.status, body: { error: { code: err.code, message: err.message } } };
}

/**
 * POST /plugins/stripe/webhook/:account — verifies the signature on the raw body against every
 * active secret of the account (stale, forged or unknown → 400, nothing stored), stores the event
 * in the inbox (a duplicate → 200, nothing new; concurrent requests share one commit, each answered
 * after the commit holding its row), answers at once and leaves the work to the process-event job,
 * enqueued without waiting for it. The sweep job picks up an event whose enqueue was lost.
 */
export async function handleWebhook(req: PluginHttpRequest, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const account = req.params.account ?? '';
  const secrets = /^acct_[A-Za-z0-9]+$/.test(account) ? await webhookSecretsFor(rt, account) : null;
  if (secrets === null) return refusal(new KassaError('STRIPE_ACCOUNT_UNKNOWN', { account }));
  const header = req.headers['stripe-signature'];
  const verified = verifyWebhook(req.rawBody, Array.isArray(header) ? header[0] : header, secrets);
  if (!verified.ok) return refusal(new KassaError('STRIPE_WEBHOOK_REFUSED', { account, reason: verified.reason }));

  const inboxId = await storeEvent(rt, account, verified.event, 'webhook', req.rawBody.toString('utf8'));
  if (inboxId === null) return { status: 200, body: { received: true, duplicate: true } };
  // Not awaited: the event is stored, so the answer need not wait for the queue. A lost enqueue
  // is caught up by the sweep job; Stripe must not retry for it.
  enqueueEvent(rt, account, verified.event.id, inboxId);
  return { status: 200, body: { received: true } };
}

/**
 * Inserts a verified (or polled) event into the inbox; null when (account, event id) is already
 * there. The payload's object id and intent id are stored for routing only: processing always
 * re-fetches the object from Stripe before touching money.
 */
export async function storeEvent(
  rt: Pick<PluginRuntime, 'dataSource'>, account: string, event: Stripe.Event, source: 'webhook' | 'poll', rawJson?: string,
): Promise<string | null> {
  const obj = (event.data?.object ?? {}) as { id?: string; object?: string; payment_intent?: unknown };
  const intent = obj.object === 'payment_intent' ? obj.id : typeof obj.payment_intent === 'string' ? obj.payment_intent : null;
  // Concurrent callers share one INSERT and one commit; this resolves after the commit holding the row.
  return inboxWriterFor(rt.dataSource).store({
    account, eventId: event.id, type: event.type, objectId: obj.id ?? '', objectType: obj.object ?? '', intentId: intent ?? null, source,
    // The verified bytes are the JSON already: no second serialisation on the hot path.
    payload: rawJson ?? JSON.stringify(event),
  });
}

function enqueueEvent(rt: PluginRuntime, account: string, eventId: string, inboxId: string): void {
  const warn = (err: unknown) => rt.log.warn('stripe: enqueue failed, left for the sweep', { inboxId, error: err instanceof Error ? err.message : String(err) });
  try {
    rt.enqueue(PROCESS_EVENT_JOB, { inboxId }, { jobId: eventJobId(account, eventId) }).catch(warn);
  } catch (err) {
    warn(err);
  }
}
