import { KassaError, isKassaError } from '@kassa/core';
import { inboxFrom, inboxSelect, type StripeWebhookInbox } from '../db/stripe-rows';
import { isResourceMissing, retrieveIntent } from '../intents';
import { findRef, syncPayment, type SyncScope } from '../reconcile';
import { accountContext } from '../stripe-account-context';
import type { StripeRuntime } from '../stripe-state';
import { applyConnectAccountEvent, connectedAccountContext } from '../connect/connect-webhook';
import { applyMethodEvent, isMethodEvent } from '../saved-methods/method-events';

/** Which payment intent an event concerns and what to reconcile besides it. */
export function routeEvent(row: Pick<StripeWebhookInbox, 'type' | 'objectId' | 'objectType' | 'intentId'>): { intentId: string | null; scope: SyncScope } {
  const { type } = row;
  if (type.startsWith('charge.dispute.')) return { intentId: row.intentId, scope: { disputeId: row.objectId } };
  if (type.startsWith('refund.') || type === 'charge.refunded' || type === 'charge.refund.updated') return { intentId: row.intentId, scope: { refunds: true } };
  if (type.startsWith('payment_intent.') || type.startsWith('charge.')) return { intentId: row.intentId, scope: {} };
  return { intentId: null, scope: {} };
}

type ProcessRuntime = Pick<StripeRuntime, 'payments' | 'db' | 'settings' | 'state' | 'baseUrl'>;

/**
 * Attempts before an event whose processing keeps failing ends as failed. An object Stripe does
 * not know under the account's key (deleted, or another account's) will not appear by retrying,
 * and each retry is a call to Stripe: it gets fewer.
 */
export const MAX_EVENT_ATTEMPTS = 8;
export const MAX_MISSING_OBJECT_ATTEMPTS = 3;

/** Failures that retrying cannot fix quickly: the object or the account is not there. */
function isMissing(err: unknown): boolean {
  return isResourceMissing(err) || isKassaError(err, 'STRIPE_ACCOUNT_UNKNOWN');
}

/**
 * Processes one inbox row: finds our payment (object ref, else the re-fetched intent's metadata),
 * then re-fetches and applies under the payment's lock. Idempotent: a processed (or failed) row is
 * skipped, and a repeat of the same Stripe state changes nothing. An error propagates so the job
 * retries, until the row's attempts reach their bound: then the row ends as failed (failed_at,
 * outcome naming the reason), the sweep leaves it alone, and no further call reaches Stripe.
 */
export async function processInboxEvent(rt: ProcessRuntime, inboxId: string): Promise<string> {
  const [found] = /^[0-9a-f-]{36}$/i.test(inboxId) ? await rt.db.query(`${inboxSelect} WHERE id = $1`, [inboxId]) : [];
  const row = found ? inboxFrom(found) : null;
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Stripe inbox event ${inboxId}` });
  if (row.processedAt) return row.outcome ?? 'processed';
  if (row.failedAt) return row.outcome ?? 'failed';
  let outcome: string;
  try {
    outcome = await apply(rt, row);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const limit = isMissing(err) ? MAX_MISSING_OBJECT_ATTEMPTS : MAX_EVENT_ATTEMPTS;
    // Counted in SQL: the job and the sweep may both be at it.
    const [counted] = await rt.db.query<{ attempts: number }>(
      `UPDATE stripe_webhook_inbox SET attempts = attempts + 1, last_error = $2::text,
              failed_at = CASE WHEN attempts + 1 >= $3::int THEN now() ELSE NULL END,
              outcome = CASE WHEN attempts + 1 >= $3::int THEN $4::text || (attempts + 1)::text || ' attempts: ' || $2::text ELSE outcome END
        WHERE id = $1 AND processed_at IS NULL AND failed_at IS NULL RETURNING attempts`,
      [inboxId, message, limit, isMissing(err) ? 'failed (the object does not exist for this account) after ' : 'failed after '],
    );
    if (counted && counted.attempts >= limit) return `failed: ${message}`;
    throw err;
  }
  await rt.db.query('UPDATE stripe_webhook_inbox SET processed_at = now(), outcome = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1', [inboxId, outcome]);
  return outcome;
}

async function apply(rt: ProcessRuntime, row: StripeWebhookInbox): Promise<string> {
  // Stripe Connect: a connected account's own events, and its objects re-fetched with the platform's key.
  const accountEvent = await applyConnectAccountEvent(rt, row);
  if (accountEvent) return accountEvent;
  if (isMethodEvent(row.type)) return applyMethodEvent(rt, ((await connectedAccountContext(rt, row.account)) ?? await accountContext(rt, row.account)).stripe, row);
  const { intentId, scope } = routeEvent(row);
  if (!intentId) return `ignored: ${row.type}`;
  const ctx = (await connectedAccountContext(rt, row.account)) ?? await accountContext(rt, row.account);
  const ref = await findRef(rt, intentId);
  // An event of one account naming another account's intent (a forged or foreign event): nothing
  // of this account's to update, and no call to Stripe with this account's key.
  if (ref && ref.account !== row.account) return `not ours: ${intentId} belongs to another account`;
  let paymentId = ref?.paymentId ?? null;
  if (!paymentId) {
    // Not seen yet (e.g. a webhook before the return page): the intent's metadata names it.
    try {
      paymentId = (await retrieveIntent(ctx.stripe, intentId)).metadata?.kassa_payment_id ?? null;
    } catch (err) {
      // Unknown to Stripe under this key (another mode or account): nothing of ours to update.
      if (isResourceMissing(err)) return `not ours: ${intentId} does not exist for ${row.account}`;
      throw err;
    }
  }
  const payment = paymentId ? (await rt.payments.get(paymentId))?.payment : null;
  // Other applications may share the Stripe account: their objects are none of our business.
  if (!payment || payment.provider !== 'stripe') return `not ours: ${intentId}`;
  try {
    return await syncPayment(rt, ctx.stripe, { paymentId: payment.id, intentId, account: row.account }, scope);
  } catch (err) {
    if (isKassaError(err, 'STRIPE_PAYMENT_LINK_INVALID')) return `not ours: ${intentId} names another payment`;
    throw err;
  }
}

/** Where a page of stale inbox rows ended: the next page starts after it. */
export interface InboxCursor { receivedAt: string; id: string }

/**
 * Unprocessed inbox rows older than `olderThanMs` (their enqueue was lost, or they keep failing,
 * short of their bound), oldest first, after `after` when given (a row that fails again stays
 * unprocessed, so paging by position would meet it again).
 */
export async function staleInboxPage(
  rt: Pick<StripeRuntime, 'db'>, olderThanMs: number, limit: number, after?: InboxCursor,
): Promise<{ ids: string[]; next: InboxCursor | null }> {
  const rows = await rt.db.query<{ id: string; received_at: string }>(
    `SELECT id, received_at::text AS received_at FROM stripe_webhook_inbox
      WHERE processed_at IS NULL AND failed_at IS NULL AND received_at < now() - ($1::int * interval '1 millisecond')
        AND ($3::timestamptz IS NULL OR (received_at, id) > ($3::timestamptz, $4::uuid))
      ORDER BY received_at, id LIMIT $2`, [olderThanMs, limit, after?.receivedAt ?? null, after?.id ?? null],
  );
  const last = rows.at(-1);
  return { ids: rows.map((r) => r.id), next: rows.length === limit && last ? { receivedAt: last.received_at, id: last.id } : null };
}

/** The first page of stale inbox rows (see staleInboxPage). */
export async function staleInboxIds(rt: Pick<StripeRuntime, 'db'>, olderThanMs: number, limit = 100): Promise<string[]> {
  return (await staleInboxPage(rt, olderThanMs, limit)).ids;
}
