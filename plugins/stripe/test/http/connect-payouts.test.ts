import { createShop, type ShopFixture } from '@kassa/testing';
import { globalSettings } from '@kassa/core/host';
import type Stripe from 'stripe';
import { STRIPE_API_VERSION, STRIPE_NAMESPACE, createStripeClient, saveConnection } from '../../src';
import { runEventJob } from '../support/stripe-harness';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * Connect payouts through the real server (session, CSRF, permissions, plugin mounting) against the
 * emulator, listening, so the Connect endpoint the operator creates from the page receives the
 * accounts' events: the organizer's balance, schedule and payouts pages and the reconciliation CSV;
 * the operator's schedule, payout on request (a double submit makes one payout) and endpoint
 * button. No organizer sees or acts on another's payouts, and organizers' admins are not operators.
 */
describe('Stripe Connect payouts: pages, CSV, operator actions', () => {
  let h: ServerHarness;
  let other: ShopFixture;
  let ran = 0;
  const PAGE = '/plugins/stripe/control/connect';
  const PAYOUTS = `${PAGE}/payouts`;
  const OPERATOR = `${PAGE}/operator`;

  const platform = (account?: string): Stripe => createStripeClient({ secretKey: h.instanceKey, apiBase: h.emulator.url, maxNetworkRetries: 0, ...(account ? { stripeAccount: account } : {}) });
  const control = (path: string, body: Record<string, string> = {}) =>
    fetch(`${h.emulator.url}/_emulator${path}`, { method: 'POST', body: new URLSearchParams(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
  /** The emulator's webhooks reach the listening app; the process-event jobs it enqueued are run here. */
  const deliver = async (): Promise<string[]> => {
    await h.emulator.flushWebhooks();
    const out: string[] = [];
    while (ran < h.jobs.length) {
      const job = h.jobs[ran++]!;
      out.push(...(await runEventJob(h.rt, job)));
    }
    return out;
  };

  async function browser(organizerId: string, opts: { operator?: boolean; admin?: boolean } = {}) {
    const { cookie, csrf } = await h.signIn(organizerId, opts);
    return {
      csrf,
      get: (url: string) => h.app.inject({ method: 'GET', url, headers: { cookie } }),
      post: (url: string, fields: Record<string, string> = {}, token: string | null = csrf) => h.app.inject({
        method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ...(token ? { _csrf: token } : {}), ...fields }).toString(),
      }),
    };
  }
  type Browser = Awaited<ReturnType<typeof browser>>;
  const hidden = (html: string, name: string, formId?: string): string => {
    const scope = formId ? html.slice(html.indexOf(`id="${formId}"`)) : html;
    return new RegExp(`name="${name}" value="([^"]+)"`).exec(scope)?.[1] as string;
  };

  /** A connected Express account for an organizer, onboarded, with a paid destination charge of `amount` (10 % fee). */
  async function connected(organizerId: string, amount = 5000): Promise<{ accountId: string; connectionId: string }> {
    const a = await platform().accounts.create({ type: 'express', country: 'US', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
    await control(`/accounts/${a.id}/complete_onboarding`);
    const saved = await saveConnection(h.rt, { organizerId, eventId: null, account: await platform().accounts.retrieve(a.id) });
    await platform().paymentIntents.create({
      amount, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, return_url: 'https://shop.invalid/return',
      transfer_data: { destination: a.id }, application_fee_amount: amount / 10,
    });
    return { accountId: a.id, connectionId: saved.id };
  }

  let operator: Browser;
  let orgA: Browser;
  let orgB: Browser;
  let a: { accountId: string; connectionId: string };
  let b: { accountId: string; connectionId: string };

  beforeAll(async () => {
    h = await createServerHarness({ listen: true, emulator: { delays: { payoutPaidMs: 3_600_000 } } });
    const keys = h.emulator.keysFor(h.instanceKey);
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { platformSecretKey: h.instanceKey, platformPublishableKey: keys.publishableKey });
    other = await createShop(h.db.dataSource, { price: 1000 });
    a = await connected(h.shop.organizer.id);
    b = await connected(other.organizer.id, 3000);
    operator = await browser(other.organizer.id, { operator: true });
    orgA = await browser(h.shop.organizer.id);
    orgB = await browser(other.organizer.id);
  });
  afterAll(async () => { await h.destroy(); });

  it('the operator creates the Connect webhook endpoint from its page (connect=true, pinned version); a double submit makes one', async () => {
    const page = await operator.get(OPERATOR);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(a.accountId);
    expect(page.body).toContain(b.accountId);
    const requestId = hidden(page.body, 'requestId');
    for (let i = 0; i < 2; i++) {
      const res = await operator.post(`${OPERATOR}/webhook-endpoint`, { requestId });
      expect(res.statusCode).toBe(303);
    }
    const rows = await h.db.dataSource.query('SELECT endpoint_id FROM stripe_connect_endpoint');
    expect(rows).toHaveLength(1);
    const endpoint = await platform().webhookEndpoints.retrieve(rows[0].endpoint_id);
    expect(endpoint).toMatchObject({ url: `${h.baseUrl}/plugins/stripe/webhook-connect`, api_version: STRIPE_API_VERSION });
    expect((endpoint as unknown as { connect?: boolean }).connect).toBe(true);
    expect((await operator.get(OPERATOR)).body).toContain(rows[0].endpoint_id);
  });

  it('organizers\' admins are not operators: every operator route is "not found" and acts on nothing', async () => {
    const before = (await h.db.dataSource.query('SELECT count(*)::int AS n FROM stripe_connect_endpoint'))[0].n;
    for (const url of [OPERATOR, `${OPERATOR}/accounts/${a.connectionId}`]) expect((await orgA.get(url)).statusCode).toBe(404);
    const requestId = '3f1d2c4b-1111-4222-8333-444455556666';
    expect((await orgA.post(`${OPERATOR}/webhook-endpoint`, { requestId })).statusCode).toBe(404);
    expect((await orgA.post(`${OPERATOR}/accounts/${a.connectionId}/payouts`, { requestId, amount: '1.00', currency: 'EUR' })).statusCode).toBe(404);
    expect((await orgA.post(`${OPERATOR}/accounts/${a.connectionId}/schedule`, { requestId, interval: 'manual' })).statusCode).toBe(404);
    expect((await h.db.dataSource.query('SELECT count(*)::int AS n FROM stripe_connect_endpoint'))[0].n).toBe(before);
    expect((await platform(a.accountId).payouts.list()).data).toHaveLength(0);
  });

  it('the organizer sees its balance per currency and the schedule; the operator sets a manual schedule', async () => {
    const page = await orgA.get(PAYOUTS);
    expect(page.statusCode).toBe(200);
    // 50.00 transferred, less the platform's 5.00.
    expect(page.body).toMatch(/<tr data-currency="EUR"><td>EUR<\/td><td class="num mono">45\.00<\/td>/);
    expect(page.body).not.toContain(b.accountId);
    const account = await operator.get(`${OPERATOR}/accounts/${a.connectionId}`);
    expect(account.statusCode).toBe(200);
    const requestId = hidden(account.body, 'requestId', 'stripe-operator-schedule-form');
    expect((await operator.post(`${OPERATOR}/accounts/${a.connectionId}/schedule`, { requestId, interval: 'manual' })).statusCode).toBe(303);
    expect((await platform().accounts.retrieve(a.accountId)).settings?.payouts?.schedule?.interval).toBe('manual');
    expect((await orgA.get(PAYOUTS)).body).toContain('<strong id="stripe-payouts-schedule">manual</strong>');
    // Bad input names the field and changes nothing.
    const bad = await operator.post(`${OPERATOR}/accounts/${a.connectionId}/schedule`, { requestId: hidden(account.body, 'requestId', 'stripe-operator-schedule-form'), interval: 'hourly' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('interval');
  });

  it('the operator\'s payout: one payout at Stripe for a double submit; a forged form and bad input create nothing', async () => {
    const page = await operator.get(`${OPERATOR}/accounts/${a.connectionId}`);
    const requestId = hidden(page.body, 'requestId', 'stripe-operator-payout-form');
    const url = `${OPERATOR}/accounts/${a.connectionId}/payouts`;
    expect((await operator.post(url, { requestId, amount: '10.00', currency: 'EUR' }, null)).statusCode).toBe(403);
    expect((await operator.post(url, { requestId, amount: '10.00', currency: 'EUR' }, 'forged')).statusCode).toBe(403);
    const bad = await operator.post(url, { requestId, amount: '10.001', currency: 'EUR' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('amount');
    expect((await operator.post(url, { requestId: 'x', amount: '10.00', currency: 'EUR' })).statusCode).toBe(400);
    expect((await platform(a.accountId).payouts.list()).data).toHaveLength(0);

    const [first, second] = await Promise.all([
      operator.post(url, { requestId, amount: '10.00', currency: 'EUR' }),
      operator.post(url, { requestId, amount: '10.00', currency: 'EUR' }),
    ]);
    const third = await operator.post(url, { requestId, amount: '10.00', currency: 'EUR' });
    for (const res of [first, second, third]) expect(res.statusCode).toBe(303);
    const payouts = (await platform(a.accountId).payouts.list()).data;
    expect(payouts.map((p) => [p.amount, p.metadata?.kassa_payout_request])).toEqual([[1000, requestId]]);
    const rows = await h.db.dataSource.query('SELECT payout_id, payout_status, requested_by_operator FROM stripe_connect_payout WHERE account_id = $1', [a.accountId]);
    expect(rows).toEqual([{ payout_id: payouts[0]!.id, payout_status: 'pending', requested_by_operator: true }]);
    // The events of the payout find the same row.
    await deliver();
    expect((await h.db.dataSource.query('SELECT count(*)::int AS n FROM stripe_connect_payout WHERE account_id = $1', [a.accountId]))[0].n).toBe(1);
    const list = await orgA.get(PAYOUTS);
    expect(list.body).toContain(payouts[0]!.id);
    expect(list.body).toContain('10.00 EUR');
    // More than is available: Stripe's refusal is shown to the operator, and no payout is made.
    const again = await operator.get(`${OPERATOR}/accounts/${a.connectionId}`);
    const tooMuch = await operator.post(url, { requestId: hidden(again.body, 'requestId', 'stripe-operator-payout-form'), amount: '1000.00', currency: 'EUR' });
    expect(tooMuch.headers.location).toMatch(/\?error=/);
    expect((await operator.get(String(tooMuch.headers.location))).body).toContain('insufficient');
    expect((await platform(a.accountId).payouts.list()).data).toHaveLength(1);
    // The refused request stays on the operator's page; the organizer sees payouts only.
    expect((await operator.get(`${OPERATOR}/accounts/${a.connectionId}`)).body).toContain('1000.00 EUR');
    expect((await orgA.get(PAYOUTS)).body).not.toContain('1000.00 EUR');
  });

  it('automatic payouts arrive by the Connect endpoint: paid, and failed with Stripe\'s reason', async () => {
    const account = await operator.get(`${OPERATOR}/accounts/${a.connectionId}`);
    await operator.post(`${OPERATOR}/accounts/${a.connectionId}/schedule`, { requestId: hidden(account.body, 'requestId', 'stripe-operator-schedule-form'), interval: 'weekly', weekly_anchor: 'friday' });
    expect((await orgA.get(PAYOUTS)).body).toContain('weekly on friday');
    const po = await control(`/accounts/${a.accountId}/payout`);
    await control(`/payouts/${String(po.id)}/fail`, { failure_code: 'no_account' });
    await deliver();
    const row = (await h.db.dataSource.query('SELECT payout_status, failure_message FROM stripe_connect_payout WHERE payout_id = $1', [po.id]))[0];
    expect(row.payout_status).toBe('failed');
    const page = await orgA.get(PAYOUTS);
    expect(page.body).toContain(String(row.failure_message));
    expect(page.body).toContain('(no_account)');
  });

  it('reconciliation page and CSV (decimal text in the currency\'s exponent); another organizer\'s payout is "not found" for both', async () => {
    const po = await control(`/accounts/${b.accountId}/payout`);
    await control(`/payouts/${String(po.id)}/paid`);
    await deliver();
    const [row] = await h.db.dataSource.query('SELECT id FROM stripe_connect_payout WHERE payout_id = $1', [po.id]);
    const page = await orgB.get(`${PAYOUTS}/${row.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-kind="payment"');
    expect(page.body).toContain('data-kind="application_fee"');
    const csv = await orgB.get(`${PAYOUTS}/${row.id}/csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('payout,balance_transaction,kind,type,source,created,currency,amount,fee,net,order,event,payment,refund');
    const cells = lines.slice(1).map((l) => l.split(','));
    expect(cells.map((c) => [c[2], c[7]]).sort()).toEqual([['application_fee', '-3.00'], ['payment', '30.00'], ['payout', '-27.00']]);
    // Organizer A: neither the page nor the CSV of B's payout, nor a malformed id.
    for (const url of [`${PAYOUTS}/${row.id}`, `${PAYOUTS}/${row.id}/csv`, `${PAYOUTS}/not-an-id`]) expect((await orgA.get(url)).statusCode).toBe(404);
    expect((await orgA.get(PAYOUTS)).body).not.toContain(String(po.id));
  });

  it('when Stripe refuses the account (access revoked), the page still lists Kassa\'s copy of the payouts', async () => {
    await control(`/accounts/${b.accountId}/deauthorize`);
    const page = await orgB.get(PAYOUTS);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="stripe-payouts-error"');
    expect(page.body).toContain('id="stripe-payouts-list"');
  });

  it('teams without organizer settings do not see the payout pages', async () => {
    const member = await browser(h.shop.organizer.id, { admin: false });
    expect((await member.get(PAYOUTS)).statusCode).toBe(404);
  });
});
