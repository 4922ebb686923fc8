import { randomUUID } from 'node:crypto';
import { connectDashboardNotices } from '../../src/connect/dashboard-notices';
import { createStripeHarness, type StripeHarness } from '../support/stripe-harness';

/*
 * What the dashboard notice says for each state of Kassa's copy of a connected account: due
 * requirements (warning before the deadline, danger when past due or charges are off), Stripe still
 * verifying (info), a restriction without requirements (danger), nothing when all is well, nothing
 * for a disconnected account, and only the asking organizer's accounts.
 */
describe('connectDashboardNotices', () => {
  let h: StripeHarness;
  beforeAll(async () => { h = await createStripeHarness(); });
  afterAll(async () => { await h.destroy(); });

  async function account(organizerId: string, row: { eventId?: string | null; chargesEnabled: boolean; requirements: Record<string, unknown>; disconnected?: boolean }): Promise<string> {
    const accountId = `acct_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await h.db.dataSource.query(
      `INSERT INTO stripe_connected_account (organizer_id, event_id, account_id, account_type, livemode, charges_enabled, requirements, disconnected_at)
       VALUES ($1, $2, $3, 'express', false, $4, $5, $6)`,
      [organizerId, row.eventId ?? null, accountId, row.chargesEnabled, JSON.stringify(row.requirements), row.disconnected ? new Date() : null],
    );
    return accountId;
  }

  it('one notice per account Stripe wants something for, of the asking organizer only', async () => {
    const org = randomUUID();
    const otherOrg = randomUUID();
    const deadline = 1_900_000_000;
    const due = await account(org, { chargesEnabled: true, requirements: { currently_due: ['external_account', 'business_profile.url'], past_due: [], current_deadline: deadline } });
    const verifying = await account(org, { eventId: randomUUID(), chargesEnabled: false, requirements: { currently_due: [], disabled_reason: 'requirements.pending_verification' } });
    await account(org, { eventId: randomUUID(), chargesEnabled: true, requirements: { currently_due: [], past_due: [] } });
    await account(org, { eventId: randomUUID(), chargesEnabled: false, requirements: { currently_due: ['tos_acceptance.date'] }, disconnected: true });
    const foreign = await account(otherOrg, { chargesEnabled: false, requirements: { disabled_reason: 'rejected.fraud' } });

    const notices = await connectDashboardNotices(org, h.rt);
    expect(notices).toEqual([
      {
        level: 'warning', url: '/plugins/stripe/control/connect', deadline: new Date(deadline * 1000),
        message: `Stripe needs more information about your connected account ${due}: business_profile.url, external_account. Until it is given, Stripe may pause payments or payouts.`,
      },
      { level: 'info', url: '/plugins/stripe/control/connect', message: `Stripe is verifying the information given for your connected account ${verifying} (connected for one event).` },
    ]);
    expect(await connectDashboardNotices(otherOrg, h.rt)).toEqual([
      { level: 'danger', url: '/plugins/stripe/control/connect', message: `Stripe has restricted your connected account ${foreign} (rejected.fraud).` },
    ]);
    expect(await connectDashboardNotices(randomUUID(), h.rt)).toEqual([]);
  });

  it('past due, or due while charges are off, is danger', async () => {
    const org = randomUUID();
    await account(org, { chargesEnabled: false, requirements: { currently_due: ['individual.dob.day'], past_due: ['individual.dob.day'] } });
    const [notice] = await connectDashboardNotices(org, h.rt);
    expect(notice).toMatchObject({ level: 'danger', message: expect.stringContaining('Some of it is past due') });
    expect(notice?.deadline).toBeUndefined();
  });
});
