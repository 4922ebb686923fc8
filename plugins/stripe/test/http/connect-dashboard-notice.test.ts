import { createShop, type ShopFixture } from '@kassa/testing';
import { globalSettings } from '@kassa/core/host';
import type Stripe from 'stripe';
import { STRIPE_NAMESPACE, createConnectWebhookEndpoint, createStripeClient, saveConnection } from '../../src';
import { runEventJob } from '../support/stripe-harness';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * The organizer's dashboard tells what Stripe needs for its connected account and by when, from
 * Kassa's copy of the account that `account.updated` keeps current (delivered over HTTP by the
 * emulator to the listening app's Connect endpoint). Only the organizer's own account is told.
 */
describe('Stripe Connect: the dashboard notice of what Stripe needs', () => {
  let h: ServerHarness;
  let other: ShopFixture;
  let ran = 0;
  const platform = (): Stripe => createStripeClient({ secretKey: h.instanceKey, apiBase: h.emulator.url, maxNetworkRetries: 0 });
  const control = (path: string, body: Record<string, string> = {}) =>
    fetch(`${h.emulator.url}/_emulator${path}`, { method: 'POST', body: new URLSearchParams(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
  const deliver = async (): Promise<string[]> => {
    await h.emulator.flushWebhooks();
    const out: string[] = [];
    while (ran < h.jobs.length) {
      const job = h.jobs[ran++]!;
      out.push(...(await runEventJob(h.rt, job)));
    }
    return out;
  };
  const notices = (html: string): string => {
    const start = html.indexOf('id="plugin-notices"');
    return start < 0 ? '' : html.slice(start, html.indexOf('id="attention"'));
  };

  async function connected(organizerId: string): Promise<string> {
    const a = await platform().accounts.create({ type: 'express', country: 'US', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
    await control(`/accounts/${a.id}/complete_onboarding`);
    await saveConnection(h.rt, { organizerId, eventId: null, account: await platform().accounts.retrieve(a.id) });
    return a.id;
  }

  let accountA: string;
  let accountB: string;
  let dashboardA: () => Promise<{ statusCode: number; body: string }>;
  let dashboardB: () => Promise<{ statusCode: number; body: string }>;

  beforeAll(async () => {
    h = await createServerHarness({ listen: true });
    const keys = h.emulator.keysFor(h.instanceKey);
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { platformSecretKey: h.instanceKey, platformPublishableKey: keys.publishableKey });
    await createConnectWebhookEndpoint(h.rt);
    other = await createShop(h.db.dataSource, { price: 1000 });
    accountA = await connected(h.shop.organizer.id);
    accountB = await connected(other.organizer.id);
    const a = await h.signIn(h.shop.organizer.id);
    const b = await h.signIn(other.organizer.id);
    dashboardA = () => h.app.inject({ method: 'GET', url: '/control', headers: { cookie: a.cookie } });
    dashboardB = () => h.app.inject({ method: 'GET', url: '/control', headers: { cookie: b.cookie } });
  });
  afterAll(async () => { await h.destroy(); });

  it('nothing while charges are enabled and nothing is due', async () => {
    const res = await dashboardA();
    expect(res.statusCode).toBe(200);
    expect(notices(res.body)).toBe('');
  });

  it('a requirement with a deadline (account.updated): the notice names it, the deadline, and links to the Connect page', async () => {
    await control(`/accounts/${accountA}/requirements`, { 'currently_due[]': 'individual.verification.document', deadline_in_seconds: String(7 * 86400) });
    const deadline = (await platform().accounts.retrieve(accountA)).requirements?.current_deadline as number;
    expect(deadline).toBeGreaterThan(0);
    expect(await deliver()).toEqual(expect.arrayContaining([expect.stringMatching(/^account refreshed/)]));
    const res = await dashboardA();
    expect(res.statusCode).toBe(200);
    const shown = notices(res.body);
    expect(shown).toContain(`Stripe needs more information about your connected account ${accountA}: individual.verification.document.`);
    expect(shown).toContain(`Deadline: ${new Date(deadline * 1000).toISOString().replace('T', ' ').slice(0, 16)} UTC`);
    expect(shown).toContain('href="/plugins/stripe/control/connect"');
    // Charges still enabled before the deadline: a warning, not yet the danger of past due.
    expect(shown).toContain('flash-warning');
    for (const figure of ['fig-open', 'fig-overpaid', 'fig-refunds']) expect(res.body).toContain(`id="${figure}"`);
  });

  it('organizer B never sees A\'s notice (nor its account)', async () => {
    const res = await dashboardB();
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(accountA);
    expect(notices(res.body)).toBe('');
  });

  it('past due (charges disabled) is shown as danger; B\'s own requirement is B\'s alone', async () => {
    await control(`/accounts/${accountA}/requirements`, { 'past_due[]': 'individual.id_number' });
    await control(`/accounts/${accountB}/requirements`, { 'currently_due[]': 'business_profile.url' });
    await deliver();
    const a = notices((await dashboardA()).body);
    expect(a).toContain('flash-error');
    expect(a).toContain('individual.id_number');
    expect(a).toContain('Some of it is past due');
    expect(a).not.toContain(accountB);
    const b = notices((await dashboardB()).body);
    expect(b).toContain(`${accountB}: business_profile.url.`);
    expect(b).not.toContain(accountA);
  });

  it('once the requirements clear (account.updated), no notice', async () => {
    await control(`/accounts/${accountA}/complete_onboarding`);
    await deliver();
    const row = (await h.db.dataSource.query('SELECT charges_enabled FROM stripe_connected_account WHERE account_id = $1', [accountA]))[0];
    expect(row.charges_enabled).toBe(true);
    const res = await dashboardA();
    expect(res.statusCode).toBe(200);
    expect(notices(res.body)).toBe('');
  });
});
