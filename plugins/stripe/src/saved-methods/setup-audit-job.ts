import { defineJob, type PluginJob } from '@kassa/core';
import type Stripe from 'stripe';
import { stripeCall } from '../intents';
import { accountContext } from '../stripe-account-context';
import type { StripeRuntime, StripeState } from '../stripe-state';
import { completeSetup, staleSetups } from './setup-intents';

/** Stripe's SetupIntent states that cannot (or need not) be canceled any more. */
const SETUP_DONE_AT_STRIPE: readonly Stripe.SetupIntent.Status[] = ['canceled', 'succeeded', 'processing'];

/** A SetupIntent not completed within this long is abandoned (the SCA app's audit). */
export const SETUP_ABANDON_AFTER_MS = 3_600_000;

/**
 * The audit of SetupIntents, after the SCA checkout app's: one completed meanwhile (its webhook
 * lost) is completed now; one still unfinished after an hour is canceled at Stripe and marked
 * abandoned, and the order's log and outbox say so (stripe.setup_abandoned), so the checkout
 * (and the organizer) know the card was never saved.
 */
export async function auditSetups(rt: Pick<StripeRuntime, 'payments' | 'db' | 'settings' | 'state' | 'log'>): Promise<{ completed: number; abandoned: number }> {
  let completed = 0;
  let abandoned = 0;
  for (const s of await staleSetups(rt, SETUP_ABANDON_AFTER_MS)) {
    try {
      const ctx = await accountContext(rt, s.account);
      const outcome = await completeSetup(rt, ctx.stripe, s.setupIntentId);
      if (outcome.startsWith('saved') || outcome === 'already completed') { completed++; continue; }
      const si = await stripeCall('read the card setup', () => ctx.stripe.setupIntents.retrieve(s.setupIntentId));
      if (!SETUP_DONE_AT_STRIPE.includes(si.status)) {
        await stripeCall('cancel the card setup', () => ctx.stripe.setupIntents.cancel(s.setupIntentId, { cancellation_reason: 'abandoned' }, { idempotencyKey: `kassa-setup-cancel-${s.setupIntentId}` }));
      }
      const marked = await rt.db.query('UPDATE stripe_setup_intent SET abandoned_at = now() WHERE setup_intent_id = $1 AND completed_at IS NULL AND abandoned_at IS NULL RETURNING setup_intent_id', [s.setupIntentId]);
      if (marked.length === 0) continue;
      abandoned++;
      await rt.payments.recordEvent(s.paymentId, {
        action: 'kassa.stripe.setup.abandoned', data: { setupIntentId: s.setupIntentId, status: si.status },
        outbox: { topic: 'stripe.setup_abandoned', payload: { setupIntentId: s.setupIntentId } },
      });
    } catch (err) {
      rt.log.warn('stripe: setup audit failed for one SetupIntent', { setupIntentId: s.setupIntentId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { completed, abandoned };
}

export const auditSetupsJob: PluginJob<StripeState> = defineJob({
  name: 'audit-setup-intents', repeat: { everyMs: 600_000 }, payload: () => ({}), processor: async (_p, rt: StripeRuntime) => { await auditSetups(rt); },
});
