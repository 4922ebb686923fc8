import type { DashboardNotice } from '@kassa/core';
import type { StripeRuntime } from '../stripe-state';
import { CONNECT_PAGE } from './connect-routes';
import { dueOf } from './requirements-email';

interface Requirements {
  readonly past_due?: string[] | null;
  readonly current_deadline?: number | null;
  readonly disabled_reason?: string | null;
}

/**
 * The organizer's dashboard notices (definePlugin's `dashboardNotices`): for each of the
 * organizer's live connected accounts that Stripe wants something for, one notice naming what is
 * due and by when, linking to the Connect page. Read from Kassa's copy of the account, which
 * `account.updated` keeps current, so the dashboard never waits on Stripe. Only this organizer's rows.
 */
export async function connectDashboardNotices(organizerId: string, rt: Pick<StripeRuntime, 'db'>): Promise<DashboardNotice[]> {
  const rows = await rt.db.query(
    `SELECT account_id, event_id, charges_enabled, requirements FROM stripe_connected_account
      WHERE organizer_id = $1 AND disconnected_at IS NULL ORDER BY event_id NULLS FIRST, account_id`,
    [organizerId],
  );
  const notices: DashboardNotice[] = [];
  for (const row of rows) {
    const requirements = (row.requirements ?? {}) as Requirements;
    const chargesEnabled = row.charges_enabled === true;
    const due = dueOf(requirements);
    const reason = requirements.disabled_reason ?? null;
    if (due.length === 0 && !reason && chargesEnabled) continue;
    const account = `${String(row.account_id)}${row.event_id ? ' (connected for one event)' : ''}`;
    const pastDue = (requirements.past_due ?? []).length > 0;
    const deadline = requirements.current_deadline ? new Date(requirements.current_deadline * 1000) : undefined;
    let message: string;
    let level: DashboardNotice['level'];
    if (due.length > 0) {
      message = `Stripe needs more information about your connected account ${account}: ${due.join(', ')}.`
        + (pastDue ? ' Some of it is past due: Stripe has paused payments or payouts until it is given.' : ' Until it is given, Stripe may pause payments or payouts.');
      level = pastDue || !chargesEnabled ? 'danger' : 'warning';
    } else if (reason === 'requirements.pending_verification') {
      message = `Stripe is verifying the information given for your connected account ${account}.`;
      level = 'info';
    } else {
      message = reason
        ? `Stripe has restricted your connected account ${account} (${reason}).`
        : `Stripe does not accept payments for your connected account ${account} yet.`;
      level = chargesEnabled ? 'warning' : 'danger';
    }
    notices.push({ level, message, url: CONNECT_PAGE, ...(deadline ? { deadline } : {}) });
  }
  return notices;
}
