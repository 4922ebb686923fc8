import type { KassaError, PluginHttpRequest, PluginHttpResponse } from '@kassa/core';
import type Stripe from 'stripe';
import { stripeError } from '../errors';
import { webhookSecretsFor } from '../stripe-account-context';
import { cachedWebhookSecrets } from './endpoint-secrets';
import type { StripeRuntime } from '../stripe-state';
import { verifyWebhook } from '../webhook-signature';
import { enqueueStored } from './event-batch';
import type { StoredBatchHandler } from './inbox-writer';

export { PROCESS_EVENT_JOB, eventJobId } from './event-batch';

function refusal(err: KassaError): PluginHttpResponse {
  return { status: err.status, body: { error: { code: err.code, message: err.message } } };
}

/**
 * POST /plugins/stripe/webhook/:account — verifies the signature on the raw body against every
 * active secret of the account (stale, forged or unknown → 400, nothing stored), stores the event
 * in the inbox (a duplicate → 200, nothing new; concurrent requests share one commit, each answered
 * after the commit holding its row), answers at once and leaves the work to the job the inbox
 * writer enqueues for the rows stored together (process-events; process-event for a row alone),
 * which the answer does not wait for. The sweep job picks up an event whose enqueue was lost.
 */
export async function handleWebhook(req: PluginHttpRequest<{ account: string }>, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const account = req.params.account;
  const secrets = accountPattern.test(account) ? cachedWebhookSecrets(rt.state, account) ?? await webhookSecretsFor(rt, account) : null;
  if (secrets === null) return refusal(stripeError('STRIPE_ACCOUNT_UNKNOWN', { account }));
  const header = req.headers['stripe-signature'];
  // Decoded once, as stripe-node decodes a Buffer (TextDecoder): the same text is verified, parsed and stored.
  const text = utf8.decode(req.rawBody);
  const verified = verifyWebhook(text, Array.isArray(header) ? header[0] : header, secrets);
  if (!verified.ok) return refusal(stripeError('STRIPE_WEBHOOK_REFUSED', { account, reason: verified.reason }));
  // Signed is not the same as well-formed: what the inbox cannot store is refused, never a 500.
  const malformed = eventProblem(verified.event, text);
  if (malformed) return refusal(stripeError('STRIPE_WEBHOOK_REFUSED', { account, reason: malformed }));

  // The job is enqueued once the statement holding the row returned, one for the rows stored
  // together, and the answer does not wait for it: a lost enqueue is caught up by the sweep job; Stripe must not retry for it.
  const inboxId = await storeEvent(rt, account, verified.event, 'webhook', text, enqueueStored(rt));
  return inboxId === null ? duplicateAnswer : receivedAnswer;
}

const accountPattern = /^acct_[A-Za-z0-9]+$/;
const utf8 = new TextDecoder('utf8');
const receivedAnswer: PluginHttpResponse = Object.freeze({ status: 200, body: Object.freeze({ received: true }) });
const duplicateAnswer: PluginHttpResponse = Object.freeze({ status: 200, body: Object.freeze({ received: true, duplicate: true }) });

/**
 * Why a verified payload is not an event the inbox can store, or null. Stripe's events are objects
 * with an id, a type and `data.object`. `json` is the text the event was parsed from, if at hand
 * (it makes the common case cheap). PostgreSQL refuses U+0000 and unpaired surrogates in text
 * and jsonb, and nesting beyond its parser's stack, so an event carrying one (anywhere, keys
 * included) is refused here rather than failing the insert with a 500.
 */
export function eventProblem(event: unknown, json?: string): string | null {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'the payload is not a Stripe event (not a JSON object)';
  const e = event as { id?: unknown; type?: unknown; data?: { object?: unknown } };
  if (typeof e.id !== 'string' || !/^[A-Za-z0-9_]{1,255}$/.test(e.id)) return 'the payload is not a Stripe event (id missing or malformed)';
  if (typeof e.type !== 'string' || !/^[a-z0-9_.]{1,255}$/.test(e.type)) return 'the payload is not a Stripe event (type missing or malformed)';
  if (typeof e.data !== 'object' || e.data === null || typeof e.data.object !== 'object' || e.data.object === null || Array.isArray(e.data.object)) {
    return 'the payload is not a Stripe event (data.object missing)';
  }
  // The JSON text the event was parsed from can rule the walk out: a NUL or a lone surrogate can
  // only come from a \u escape (JSON forbids raw control characters, and invalid UTF-8 decodes to
  // U+FFFD), and nesting deeper than MAX_DEPTH needs that many brackets.
  if (json !== undefined && !json.includes('\\u') && bracketsFewerThan(json, MAX_DEPTH)) return null;
  return contentProblem(event);
}

function bracketsFewerThan(json: string, n: number): boolean {
  let count = 0;
  for (let i = json.indexOf('{'); i !== -1 && count < n; i = json.indexOf('{', i + 1)) count += 1;
  for (let i = json.indexOf('['); i !== -1 && count < n; i = json.indexOf('[', i + 1)) count += 1;
  return count < n;
}

/** Deeper than any Stripe event (expanded objects included); PostgreSQL's jsonb parser has a stack limit too. */
const MAX_DEPTH = 64;
// PostgreSQL's jsonb refuses "\ud800" without its pair as it refuses "\u0000".
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Walks the event without recursion (a hostile nesting must not overflow our stack either). */
function contentProblem(event: unknown): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value: event, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    const texts: string[] = [];
    if (typeof value === 'string') texts.push(value);
    else if (typeof value === 'object' && value !== null) {
      if (depth >= MAX_DEPTH) return `the event is nested deeper than ${MAX_DEPTH} levels`;
      for (const [k, v] of Object.entries(value)) {
        if (!Array.isArray(value)) texts.push(k);
        stack.push({ value: v, depth: depth + 1 });
      }
    }
    for (const t of texts) {
      if (t.includes('\u0000')) return 'the event contains a NUL character (U+0000)';
      if (loneSurrogate.test(t)) return 'the event contains an unpaired UTF-16 surrogate';
    }
  }
  return null;
}

/**
 * Inserts a verified (or polled) event into the inbox; null when (account, event id) is already
 * there. The payload's object id and intent id are stored for routing only: processing always
 * re-fetches the object from Stripe before touching money.
 */
export async function storeEvent(
  rt: Pick<StripeRuntime, 'state'>, account: string, event: Stripe.Event, source: 'webhook' | 'poll', rawJson?: string, onStored?: StoredBatchHandler,
): Promise<string | null> {
  const raw = (event.data?.object ?? {}) as { id?: unknown; object?: unknown; payment_intent?: unknown };
  const obj = { id: text(raw.id), object: text(raw.object) };
  const intent = obj.object === 'payment_intent' ? obj.id : text(raw.payment_intent);
  // Concurrent callers share one INSERT and one commit; this resolves after the commit holding the row.
  return rt.state.inbox.store({
    account, eventId: event.id, type: event.type, objectId: obj.id ?? '', objectType: obj.object ?? '', intentId: intent ?? null, source,
    // The verified bytes are the JSON already: no second serialisation on the hot path.
    payload: rawJson ?? JSON.stringify(event),
  }, onStored);
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
