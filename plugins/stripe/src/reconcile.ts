import {
  KassaError, Order, OrderPayment, OrderRefund, emitEvent, logAction, type Actor, type DataSource, type KassaCore,
} from '@kassa/core';
import type Stripe from 'stripe';
import { fromStripeAmount } from './amount';
import { StripeDispute, StripeObjectRef } from './entities/stripe-entities';
import { listRefunds, retrieveIntent, stripeCall } from './intents';
import { infoFromIntent } from './payment-info';
import { withPaymentLock } from './payment-lock';
import { intentVerdict, refundVerdict } from './status-map';

/*
 * Applies Stripe's current state to our rows. Every entry point (checkout return page, webhook
 * processor, polling, sync job) re-fetches the object from Stripe and comes through here under
 * the payment's lock, so the same Stripe state always gives the same rows whatever the order of
 * delivery, and each money effect is keyed by a Stripe object id (refund id, dispute id).
 */

export const stripeActor: Actor = { type: 'provider', id: 'stripe' };

export interface ReconcileDeps {
  readonly core: KassaCore;
  readonly dataSource: DataSource;
}

/** What to look at beyond the intent itself. */
export interface SyncScope {
  refunds?: boolean;
  disputeId?: string;
}

/** Re-fetches the intent (and refunds/dispute when asked) and applies it, under the payment's lock. */
export async function syncPayment(
  deps: ReconcileDeps, stripe: Stripe, input: { paymentId: string; intentId: string; account: string }, scope: SyncScope = {},
): Promise<string> {
  return withPaymentLock(deps.dataSource, input.paymentId, async () => {
    const pi = await retrieveIntent(stripe, input.intentId);
    if (pi.metadata?.kassa_payment_id !== input.paymentId) {
      throw new KassaError('STRIPE_PAYMENT_LINK_INVALID', { payment: input.paymentId });
    }
    const outcomes = [await applyIntent(deps, input.paymentId, pi, input.account)];
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
  const m = deps.dataSource.manager;
  const payment = await m.findOneByOrFail(OrderPayment, { id: paymentId });
  const info = infoFromIntent(pi, account) as Record<string, unknown>;
  await remember(deps.dataSource, [
    { objectId: pi.id, kind: 'payment_intent', account, paymentId, refundId: null },
    ...(typeof info.chargeId === 'string' ? [{ objectId: info.chargeId, kind: 'charge' as const, account, paymentId, refundId: null }] : []),
  ]);
  const verdict = intentVerdict(pi);
  const open = payment.state === 'created' || payment.state === 'pending';
  switch (verdict.kind) {
    case 'confirmed': {
      if (payment.state === 'confirmed' || payment.state === 'refunded') {
        await mergeInfo(deps.dataSource, paymentId, info);
        return 'already confirmed';
      }
      const received = fromStripeAmount(verdict.amountReceived, pi.currency);
      if (received.amount < payment.amount && open) await deps.core.payments.reduceOpenAmount(payment.id, received.amount, { actor: stripeActor, reason: 'partial capture' });
      const result = await deps.core.payments.confirmPayment(paymentId, { actor: stripeActor, info });
      return `confirmed (${result.kind})`;
    }
    case 'authorized':
    case 'processing':
      if (payment.state === 'created') {
        await deps.core.payments.pendPayment(paymentId, { actor: stripeActor, info });
        return verdict.kind === 'authorized' ? 'authorized: pending capture' : 'processing: pending';
      }
      await mergeInfo(deps.dataSource, paymentId, info);
      return `${verdict.kind} (payment ${payment.state})`;
    case 'failed':
      if (open) {
        await deps.core.payments.failPayment(paymentId, { actor: stripeActor, info, message: verdict.message });
        return `failed: ${verdict.code}`;
      }
      await mergeInfo(deps.dataSource, paymentId, info);
      return `failed at Stripe (payment ${payment.state})`;
    case 'canceled':
      if (open) {
        const message = verdict.reason === 'expired' || verdict.reason === 'automatic' ? 'the authorization expired' : `canceled at Stripe (${verdict.reason ?? 'no reason'})`;
        await deps.core.payments.failPayment(paymentId, { actor: stripeActor, info, message });
        return `canceled: ${verdict.reason ?? '-'}`;
      }
      await mergeInfo(deps.dataSource, paymentId, info);
      return `canceled (payment ${payment.state})`;
    case 'requires_action':
    case 'open':
      await mergeInfo(deps.dataSource, paymentId, info);
      return verdict.kind;
  }
}

/**
 * Refunds as a set keyed by Stripe refund id. Ours (metadata.kassa_refund_id) follow Stripe's
 * status; unknown ones (made in the dashboard) become external refunds once, never twice; a
 * failed or canceled one is never booked, and one that fails later is withdrawn again.
 */
export async function applyRefunds(deps: ReconcileDeps, paymentId: string, refunds: readonly Stripe.Refund[], account: string): Promise<string> {
  const m = deps.dataSource.manager;
  const notes: string[] = [];
  // Oldest first, so external refunds get local ids in the order they were made.
  for (const r of [...refunds].sort((a, b) => a.created - b.created || a.id.localeCompare(b.id))) {
    const verdict = refundVerdict(r.status);
    const info = { stripeRefundId: r.id, stripeStatus: r.status, failureReason: r.failure_reason ?? null };
    const ownId = r.metadata?.kassa_refund_id;
    const ours = ownId ? await m.findOneBy(OrderRefund, { id: ownId, paymentId }) : await m.findOneBy(OrderRefund, { provider: 'stripe', externalId: r.id, paymentId });
    if (ours) {
      await remember(deps.dataSource, [{ objectId: r.id, kind: 'refund', account, paymentId, refundId: ours.id }]);
      notes.push(await followRefund(deps, ours, verdict, r.id, info));
      continue;
    }
    if (verdict === 'failed' || verdict === 'canceled') {
      notes.push(`${r.id} ${r.status}: not booked`);
      continue;
    }
    const { refund, created } = await deps.core.refunds.createExternalRefund(paymentId, {
      amount: fromStripeAmount(r.amount, r.currency), externalId: r.id, info, actor: stripeActor, comment: 'Refunded in the Stripe dashboard',
    });
    await remember(deps.dataSource, [{ objectId: r.id, kind: 'refund', account, paymentId, refundId: refund.id }]);
    notes.push(created ? `${r.id}: external refund booked` : `${r.id}: known`);
  }
  return notes.join(', ') || 'no refunds';
}

async function followRefund(deps: ReconcileDeps, refund: OrderRefund, verdict: ReturnType<typeof refundVerdict>, stripeId: string, info: Record<string, unknown>): Promise<string> {
  const r = deps.core.refunds;
  const update = { actor: stripeActor, info, externalId: stripeId };
  if (verdict === 'done' && (refund.state === 'created' || refund.state === 'transit')) await r.markRefundDone(refund.id, update);
  else if (verdict === 'transit' && refund.state === 'created') await r.markRefundTransit(refund.id, update);
  else if ((verdict === 'failed' || verdict === 'canceled') && ['created', 'transit', 'done'].includes(refund.state)) {
    await r.markRefundFailed(refund.id, { ...update, message: `Stripe reports the refund ${String(info.stripeStatus)}${info.failureReason ? ` (${String(info.failureReason)})` : ''}` });
  } else if ((verdict === 'failed' || verdict === 'canceled') && refund.state === 'external') await r.markRefundCanceled(refund.id, stripeActor);
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
  await remember(deps.dataSource, [{ objectId: d.id, kind: 'dispute', account, paymentId, refundId: null }]);

  const row = await deps.dataSource.transaction(async (tx) => {
    await tx.createQueryBuilder().insert().into(StripeDispute).values({
      disputeId: d.id, paymentId, status: d.status, reason: d.reason, amount: amount.amount, currency: amount.currency, dueBy,
    }).orIgnore().execute();
    const locked = await tx.getRepository(StripeDispute).findOneOrFail({ where: { disputeId: d.id }, lock: { mode: 'pessimistic_write' } });
    locked.status = d.status;
    locked.dueBy = dueBy;
    locked.amount = amount.amount;
    locked.fundsWithdrawn = withdrawn;
    locked.fundsReinstated = reinstated;
    if (locked.notifiedStatus !== d.status) {
      const payment = await tx.findOneByOrFail(OrderPayment, { id: paymentId });
      const order = await tx.findOneByOrFail(Order, { id: payment.orderId });
      const data = { disputeId: d.id, status: d.status, reason: d.reason, amount: amount.amount, currency: amount.currency, dueBy: dueBy?.toISOString() ?? null, inquiry: d.status.startsWith('warning_') };
      await logAction(tx, { organizerId: order.organizerId, eventId: order.eventId, orderId: order.id, objectType: 'payment', objectId: paymentId, action: 'kassa.stripe.dispute.updated', actor: stripeActor, data });
      await emitEvent(tx, { topic: 'stripe.dispute_updated', organizerId: order.organizerId, orderId: order.id, payload: { orderId: order.id, code: order.code, paymentId, ...data } });
      locked.notifiedStatus = d.status;
    }
    await tx.save(locked);
    return locked;
  });

  await mergeInfo(deps.dataSource, paymentId, { dispute: { id: d.id, status: d.status, dueBy: dueBy?.toISOString() ?? null, amount: amount.amount, currency: amount.currency } });
  if (moneyOut && !row.refundId) {
    const payment = await deps.dataSource.manager.findOneByOrFail(OrderPayment, { id: paymentId });
    const booked = await deps.core.refunds.createExternalRefund(paymentId, {
      amount: { amount: Math.min(amount.amount, payment.amount), currency: amount.currency },
      externalId: d.id, actor: stripeActor, comment: `Chargeback (${d.reason}): funds withdrawn by Stripe`,
      info: { stripeDisputeId: d.id, reason: d.reason },
    });
    await deps.dataSource.getRepository(StripeDispute).update({ disputeId: d.id }, { refundId: booked.refund.id });
    return `dispute ${d.id} ${d.status}: external refund booked`;
  }
  if (!moneyOut && row.refundId) {
    const refund = await deps.dataSource.manager.findOneByOrFail(OrderRefund, { id: row.refundId });
    if (refund.state === 'external') {
      await deps.core.refunds.markRefundCanceled(refund.id, stripeActor);
      return `dispute ${d.id} ${d.status}: external refund canceled (funds reinstated)`;
    }
    return `dispute ${d.id} ${d.status}: funds reinstated, but the refund is already ${refund.state}`;
  }
  return `dispute ${d.id} ${d.status}`;
}

/** Merges provider data into the payment's info (the provider's own field). */
export async function mergeInfo(ds: DataSource, paymentId: string, patch: Record<string, unknown>): Promise<void> {
  // A shredded payment never gets card or billing details back from a late event.
  await ds.query(
    `UPDATE order_payment SET info = CASE WHEN info ? '_shredded' THEN info || ($2::jsonb - 'card' - 'billing') ELSE info || $2::jsonb END WHERE id = $1`,
    [paymentId, JSON.stringify(patch)],
  );
}

/** Records which payment (and refund) a Stripe object belongs to; first writer wins. */
export async function remember(ds: DataSource, refs: Omit<StripeObjectRef, 'createdAt'>[]): Promise<void> {
  if (refs.length === 0) return;
  await ds.createQueryBuilder().insert().into(StripeObjectRef).values(refs).orUpdate(['refund_id'], ['object_id'], { skipUpdateIfNoValuesChanged: true }).execute();
}
