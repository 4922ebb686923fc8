import { paymentMachine, refundMachine, type PluginRuntime, type RefundRecord } from '@kassa/core';
import type Stripe from 'stripe';
import { fromStripeAmount } from './amount';
import type { StripeObjectRef } from './db/stripe-rows';
import { stripeError } from './errors';
import { listRefunds, retrieveIntent, stripeCall } from './intents';
import { infoFromIntent } from './payment-info';
import { withPaymentLock } from './payment-lock';
import { methodDetails } from './saved-methods/customers';
import { intentVerdict, refundVerdict } from './status-map';

/*
 * Applies Stripe's current state to our rows. Every entry point (checkout return page, webhook
 * processor, polling, sync job) re-fetches the object from Stripe and comes through here under
 * the payment's lock, so the same Stripe state always gives the same rows whatever the order of
 * delivery, and each money effect is keyed by a Stripe object id (refund id, dispute id).
 */

/** What reconciling needs of the runtime: core's payments port and the plugin's own tables. */
export type ReconcileDeps = Pick<PluginRuntime, 'payments' | 'db'>;

/** What to look at beyond the intent itself. */
export interface SyncScope {
  refunds?: boolean;
  disputeId?: string;
}

/** Re-fetches the intent (and refunds/dispute when asked) and applies it, under the payment's lock. */
export async function syncPayment(
  deps: ReconcileDeps, stripe: Stripe, input: { paymentId: string; intentId: string; account: string }, scope: SyncScope = {},
): Promise<string> {
  return withPaymentLock(deps, input.paymentId, async () => {
    const pi = await retrieveIntent(stripe, input.intentId);
    if (pi.metadata?.kassa_payment_id !== input.paymentId) {
      throw stripeError('STRIPE_PAYMENT_LINK_INVALID', { payment: input.paymentId });
    }
    const outcomes = [await applyIntent(deps, input.paymentId, pi, input.account)];
    if (pi.setup_future_usage === 'off_session') outcomes.push(await saveIntentMethod(deps, stripe, input.paymentId, pi));
    if (scope.refunds) outcomes.push(await applyRefunds(deps, input.paymentId, await listRefunds(stripe, pi.id), input.account));
    if (scope.disputeId) {
      const dispute = await stripeCall('read the dispute', () => stripe.disputes.retrieve(scope.disputeId as string));
      if (dispute.payment_intent === pi.id || (typeof dispute.payment_intent === 'object' && dispute.payment_intent?.id === pi.id)) {
        outcomes.push(await applyDispute(deps, input.paymentId, dispute, input.account));
      }
    }
    return outcomes.join('; ');
  });
}

/**
 * The intent's verdict applied to the payment through core: confirmed money is confirmed (also
 * from failed or canceled: received money is never dropped), an authorization or processing
 * intent makes the payment pending, a failed attempt fails it, and an expired or canceled
 * intent fails a payment that was still open. Requires-action and open intents leave it
 * created: the buyer can still complete or retry it.
 */
export async function applyIntent(deps: ReconcileDeps, paymentId: string, pi: Stripe.PaymentIntent, account: string): Promise<string> {
  const p = deps.payments;
  const found = await p.get(paymentId);
  if (!found) throw stripeError('STRIPE_PAYMENT_LINK_INVALID', { payment: paymentId });
  const { payment } = found;
  const info: Record<string, unknown> = { ...infoFromIntent(pi, account) };
  await remember(deps, [
    { objectId: pi.id, kind: 'payment_intent', account, paymentId, refundId: null },
    ...(typeof info.chargeId === 'string' ? [{ objectId: info.chargeId, kind: 'charge' as const, account, paymentId, refundId: null }] : []),
  ]);
  const verdict = intentVerdict(pi);
  const open = paymentMachine.is('open', payment.state);
  switch (verdict.kind) {
    case 'confirmed': {
      if (paymentMachine.is('counting', payment.state)) {
        await p.recordInfo(paymentId, info);
        return 'already confirmed';
      }
      const received = fromStripeAmount(verdict.amountReceived, pi.currency);
      if (received.amount < payment.amount && open) await p.reduceOpenAmount(payment.id, received.amount, 'partial capture');
      const result = await p.confirm(paymentId, { info });
      return `confirmed (${result.kind})`;
    }
    case 'authorized':
    case 'processing':
      if (paymentMachine.is('executable', payment.state)) {
        await p.markPending(paymentId, { info });
        return verdict.kind === 'authorized' ? 'authorized: pending capture' : 'processing: pending';
      }
      await p.recordInfo(paymentId, info);
      return `${verdict.kind} (payment ${payment.state})`;
    case 'failed':
      // An instalment's failed attempt (off-session, or the buyer's on the pay page) is the plan's to
      // handle: the payment stays open, so the buyer can still complete it.
      if (open && pi.metadata?.kassa_off_session !== 'true' && pi.metadata?.kassa_instalment !== 'true') {
        await p.fail(paymentId, { info, message: verdict.message });
        return `failed: ${verdict.code}`;
      }
      await p.recordInfo(paymentId, info);
      return `failed at Stripe (payment ${payment.state})`;
    case 'canceled':
      if (open) {
        const message = verdict.reason === 'expired' || verdict.reason === 'automatic' ? 'the authorization expired' : `canceled at Stripe (${verdict.reason ?? 'no reason'})`;
        await p.fail(paymentId, { info, message });
        return `canceled: ${verdict.reason ?? '-'}`;
      }
      await p.recordInfo(paymentId, info);
      return `canceled (payment ${payment.state})`;
    case 'requires_action':
    case 'open':
      await p.recordInfo(paymentId, info);
      return verdict.kind;
  }
}

/**
 * The card of an intent created with setup_future_usage=off_session (a plan's deposit, or "save
 * this card"), saved for the buyer once it went through: brand, last four and expiry only. Return
 * page and webhook both come here under the payment's lock; the first saves it, the rest find it.
 * A plan without a method gets it for its later instalments.
 */
export async function saveIntentMethod(deps: ReconcileDeps, stripe: Stripe, paymentId: string, pi: Stripe.PaymentIntent): Promise<string> {
  if (pi.status !== 'succeeded' && pi.status !== 'requires_capture' && pi.status !== 'processing') return 'card not saved yet';
  const pmId = typeof pi.payment_method === 'string' ? pi.payment_method : pi.payment_method?.id;
  const customer = typeof pi.customer === 'string' ? pi.customer : pi.customer?.id ?? null;
  if (!pmId || !customer) return 'no card to save';
  const sm = deps.payments.storedMethods;
  if (await sm.byReference(pmId)) return 'card saved already';
  const found = await deps.payments.get(paymentId);
  if (!found) throw stripeError('STRIPE_PAYMENT_LINK_INVALID', { payment: paymentId });
  const pm = await stripeCall('read the payment method', () => stripe.paymentMethods.retrieve(pmId));
  const method = await sm.save(found.order.id, { reference: pm.id, customerReference: customer, ...methodDetails(pm) });
  const plan = await sm.planOf(found.order.id);
  if (plan && plan.storedMethodId === null) await sm.replacePlanMethod(found.order.id, method.id);
  return `saved ${method.brand ?? 'card'} ${method.last4 ?? ''}`.trim();
}

/**
 * Refunds as a set keyed by Stripe refund id. Ours (metadata.kassa_refund_id) follow Stripe's
 * status; unknown ones (made in the dashboard) become external refunds once, never twice; a
 * failed or canceled one is never booked, and one that fails later is withdrawn again.
 */
export async function applyRefunds(deps: ReconcileDeps, paymentId: string, refunds: readonly Stripe.Refund[], account: string): Promise<string> {
  const notes: string[] = [];
  // Oldest first, so external refunds get local ids in the order they were made.
  for (const r of [...refunds].sort((a, b) => a.created - b.created || a.id.localeCompare(b.id))) {
    const verdict = refundVerdict(r.status);
    const info = { stripeRefundId: r.id, stripeStatus: r.status, failureReason: r.failure_reason ?? null };
    const ownId = r.metadata?.kassa_refund_id;
    const ours = await deps.payments.refund(paymentId, ownId ? { id: ownId } : { externalId: r.id });
    if (ours) {
      await remember(deps, [{ objectId: r.id, kind: 'refund', account, paymentId, refundId: ours.id }]);
      notes.push(await followRefund(deps, ours, verdict, r.id, info));
      continue;
    }
    if (verdict === 'failed' || verdict === 'canceled') {
      notes.push(`${r.id} ${r.status}: not booked`);
      continue;
    }
    const { refund, created } = await deps.payments.createExternalRefund(paymentId, {
      amount: fromStripeAmount(r.amount, r.currency), externalId: r.id, info, comment: 'Refunded in the Stripe dashboard',
    });
    await remember(deps, [{ objectId: r.id, kind: 'refund', account, paymentId, refundId: refund.id }]);
    notes.push(created ? `${r.id}: external refund booked` : `${r.id}: known`);
  }
  return notes.join(', ') || 'no refunds';
}

/** Our refund follows Stripe's status; core's refund machine decides which moves exist. */
async function followRefund(deps: ReconcileDeps, refund: RefundRecord, verdict: ReturnType<typeof refundVerdict>, stripeId: string, info: Record<string, unknown>): Promise<string> {
  const p = deps.payments;
  const update = { info, externalId: stripeId };
  const gone = verdict === 'failed' || verdict === 'canceled';
  if (verdict === 'done' && refundMachine.is('inFlight', refund.state)) await p.markRefundDone(refund.id, update);
  else if (verdict === 'transit' && refundMachine.can(refund.state, 'send')) await p.markRefundTransit(refund.id, update);
  else if (gone && refundMachine.is('counting', refund.state)) {
    await p.markRefundFailed(refund.id, { ...update, message: `Stripe reports the refund ${String(info.stripeStatus)}${info.failureReason ? ` (${String(info.failureReason)})` : ''}` });
  } else if (gone && refundMachine.is('awaitingDecision', refund.state)) await p.markRefundCanceled(refund.id);
  else return `${stripeId}: ${refund.state}`;
  return `${stripeId}: ${verdict}`;
}

/**
 * A dispute's money effect, from its current state: an external refund while funds are withdrawn
 * (or the dispute is lost), canceled once they are reinstated (or it is won); inquiries and
 * prevented disputes move nothing. The organizer gets one outbox event per status change.
 */
export async function applyDispute(deps: ReconcileDeps, paymentId: string, d: Stripe.Dispute, account: string): Promise<string> {
  const txns = (d.balance_transactions ?? []) as { amount: number }[];
  const withdrawn = txns.some((t) => t.amount < 0);
  const reinstated = txns.some((t) => t.amount > 0);
  const moneyOut = (withdrawn || d.status === 'lost') && !(reinstated || d.status === 'won');
  const amount = fromStripeAmount(d.amount, d.currency);
  const dueBy = d.evidence_details?.due_by ? new Date(d.evidence_details.due_by * 1000) : null;
  await remember(deps, [{ objectId: d.id, kind: 'dispute', account, paymentId, refundId: null }]);

  // The dispute row and the organizer's notice change together.
  const row = await deps.db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO stripe_dispute (dispute_id, payment_id, status, reason, amount, currency, due_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (dispute_id) DO NOTHING`,
      [d.id, paymentId, d.status, d.reason, amount.amount, amount.currency, dueBy],
    );
    const [locked] = await tx.query<{ notified_status: string | null; refund_id: string | null }>(
      'SELECT notified_status, refund_id FROM stripe_dispute WHERE dispute_id = $1 FOR UPDATE', [d.id]);
    const notify = locked?.notified_status !== d.status;
    if (notify) {
      const data = { disputeId: d.id, status: d.status, reason: d.reason, amount: amount.amount, currency: amount.currency, dueBy: dueBy?.toISOString() ?? null, inquiry: d.status.startsWith('warning_') };
      await deps.payments.recordEvent(paymentId, { action: 'kassa.stripe.dispute.updated', data, outbox: { topic: 'stripe.dispute_updated', payload: data } }, tx);
    }
    await tx.query(
      `UPDATE stripe_dispute SET status = $2, due_by = $3, amount = $4, funds_withdrawn = $5, funds_reinstated = $6, notified_status = CASE WHEN $7 THEN $2 ELSE notified_status END
        WHERE dispute_id = $1`,
      [d.id, d.status, dueBy, amount.amount, withdrawn, reinstated, notify],
    );
    return { refundId: locked?.refund_id ?? null };
  });

  await deps.payments.recordInfo(paymentId, { dispute: { id: d.id, status: d.status, dueBy: dueBy?.toISOString() ?? null, amount: amount.amount, currency: amount.currency } });
  if (moneyOut && !row.refundId) {
    const found = await deps.payments.get(paymentId);
    if (!found) throw stripeError('STRIPE_PAYMENT_LINK_INVALID', { payment: paymentId });
    const booked = await deps.payments.createExternalRefund(paymentId, {
      amount: { amount: Math.min(amount.amount, found.payment.amount), currency: amount.currency },
      externalId: d.id, comment: `Chargeback (${d.reason}): funds withdrawn by Stripe`,
      info: { stripeDisputeId: d.id, reason: d.reason },
    });
    await deps.db.query('UPDATE stripe_dispute SET refund_id = $2 WHERE dispute_id = $1', [d.id, booked.refund.id]);
    return `dispute ${d.id} ${d.status}: external refund booked`;
  }
  if (!moneyOut && row.refundId) {
    const refund = await deps.payments.refund(paymentId, { id: row.refundId });
    if (refund && refundMachine.is('awaitingDecision', refund.state)) {
      await deps.payments.markRefundCanceled(refund.id);
      return `dispute ${d.id} ${d.status}: external refund canceled (funds reinstated)`;
    }
    return `dispute ${d.id} ${d.status}: funds reinstated, but the refund is already ${refund?.state ?? 'gone'}`;
  }
  return `dispute ${d.id} ${d.status}`;
}

/** Records which payment (and refund) a Stripe object belongs to; first writer wins (a refund id is filled in later). */
export async function remember(deps: Pick<PluginRuntime, 'db'>, refs: StripeObjectRef[]): Promise<void> {
  if (refs.length === 0) return;
  await deps.db.query(
    `INSERT INTO stripe_object_ref (object_id, kind, account, payment_id, refund_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::uuid[])
     ON CONFLICT (object_id) DO UPDATE SET refund_id = EXCLUDED.refund_id
       WHERE stripe_object_ref.refund_id IS DISTINCT FROM EXCLUDED.refund_id`,
    [refs.map((r) => r.objectId), refs.map((r) => r.kind), refs.map((r) => r.account), refs.map((r) => r.paymentId), refs.map((r) => r.refundId)],
  );
}

/** The object ref of a Stripe object, or null. */
export async function findRef(deps: Pick<PluginRuntime, 'db'>, objectId: string): Promise<StripeObjectRef | null> {
  const [r] = await deps.db.query<{ object_id: string; kind: StripeObjectRef['kind']; account: string; payment_id: string; refund_id: string | null }>(
    'SELECT object_id, kind, account, payment_id, refund_id FROM stripe_object_ref WHERE object_id = $1', [objectId]);
  return r ? { objectId: r.object_id, kind: r.kind, account: r.account, paymentId: r.payment_id, refundId: r.refund_id } : null;
}
