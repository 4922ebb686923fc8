import type Stripe from 'stripe';
import type { StripeWebhookInbox } from '../../db/stripe-rows';
import { stripeCall } from '../../intents';
import type { StripeRuntime } from '../../stripe-state';
import { platformContext } from '../connected-accounts';
import { organizerOfAccount, savePayout } from './payout-store';

/**
 * `payout.created|updated|paid|failed|canceled` of a connected account: the payout is re-fetched
 * with the platform's key acting on the account (so a late `payout.updated` never overwrites a
 * later state) and Kassa's copy is updated. Null: not a payout event.
 */
export async function applyPayoutEvent(rt: Pick<StripeRuntime, 'db' | 'settings'>, row: Pick<StripeWebhookInbox, 'type' | 'account' | 'objectId'>): Promise<string | null> {
  if (!row.type.startsWith('payout.')) return null;
  const organizerId = await organizerOfAccount(rt, row.account);
  if (!organizerId) return `ignored: ${row.account} was never connected`;
  if (!/^po_[A-Za-z0-9]+$/.test(row.objectId)) return `ignored: ${row.objectId} is not a payout`;
  const { stripe } = await platformContext(rt);
  const po: Stripe.Payout = await stripeCall('read the payout', () => stripe.payouts.retrieve(row.objectId, {}, { stripeAccount: row.account }));
  const saved = await savePayout(rt, organizerId, row.account, po);
  return `payout ${po.id}: ${saved.payoutStatus}`;
}
