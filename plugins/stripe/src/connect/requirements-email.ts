import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import type { StripeRuntime } from '../stripe-state';
import { CONNECT_PAGE } from './connect-routes';
import type { ConnectedAccount } from './connected-accounts';

/** What Stripe needs now: past due and currently due, one sorted list. */
export function dueOf(requirements: unknown): string[] {
  const r = (requirements ?? {}) as { currently_due?: string[] | null; past_due?: string[] | null };
  return [...new Set([...(r.past_due ?? []), ...(r.currently_due ?? [])])].sort();
}

/**
 * After an `account.updated`: when Stripe asks for something it did not ask for before (the due
 * list grew), the people who manage the organizer's settings get one email about this set of
 * requirements, with the deadline. The key is the account and the set, so a replayed event, a
 * second worker or the same set asked again write nothing new; a set that grows again is a new email.
 */
export async function emailNewRequirements(
  rt: Pick<StripeRuntime, 'payments' | 'baseUrl'>, before: Pick<ConnectedAccount, 'organizerId' | 'requirements'>, account: Stripe.Account,
): Promise<number> {
  const now = dueOf(account.requirements);
  const had = new Set(dueOf(before.requirements));
  const added = now.filter((d) => !had.has(d));
  if (added.length === 0) return 0;
  const r = account.requirements;
  const deadline = r?.current_deadline ? new Date(r.current_deadline * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : null;
  const pastDue = new Set(r?.past_due ?? []);
  const key = `connect-requirements-${account.id}-${createHash('sha256').update(now.join('\n')).digest('hex').slice(0, 24)}`;
  const text = [
    'Hello,',
    '',
    `Stripe needs more information about your connected account ${account.id}${deadline ? `, by ${deadline}` : ''}.`,
    pastDue.size > 0 ? 'Some of it is past due: Stripe has paused payments or payouts until it is given.' : 'Until it is given, Stripe may pause payments or payouts.',
    '',
    ...now.map((d) => `- ${d}${pastDue.has(d) ? ' (past due)' : ''}`),
    '',
    `Give it here: ${rt.baseUrl}${CONNECT_PAGE}`,
  ].join('\n');
  const { written } = await rt.payments.emailOrganizer(before.organizerId, { key, subject: 'Stripe needs more information about your account', text });
  return written;
}
