import { createHmac } from 'node:crypto';
import type Stripe from 'stripe';
import { STRIPE_API_VERSION, createStripeClient } from '../../src';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * The instance operator's Stripe page through the real server: the webhook endpoint of the
 * instance-level account (keys from KASSA_INSTANCE_SETTINGS), which before this page only the
 * embedded default created. A double submit creates one endpoint; organizers' admins get "not
 * found" and create nothing; a forged form is refused; the stored secret verifies the instance
 * account's events at its webhook route.
 */
describe('Stripe: the operator creates the instance account\'s webhook endpoint', () => {
  let h: ServerHarness;
  const PAGE = '/plugins/stripe/control/instance';
  const stripe = (): Stripe => createStripeClient({ secretKey: h.instanceKey, apiBase: h.emulator.url, maxNetworkRetries: 0 });
  const globalEndpoints = async (): Promise<{ endpoint_id: string; account_id: string }[]> =>
    h.db.dataSource.query(`SELECT endpoint_id, account_id FROM stripe_webhook_endpoint WHERE scope = 'global'`);

  async function browser(opts: { operator?: boolean } = {}) {
    const { cookie, csrf } = await h.signIn(h.shop.organizer.id, opts);
    return {
      get: (url: string) => h.app.inject({ method: 'GET', url, headers: { cookie } }),
      post: (url: string, fields: Record<string, string>, token: string | null = csrf) => h.app.inject({
        method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ...(token ? { _csrf: token } : {}), ...fields }).toString(),
      }),
    };
  }
  const requestIdOf = (html: string): string => /name="requestId" value="([^"]+)"/.exec(html)![1]!;

  beforeAll(async () => { h = await createServerHarness({ listen: true }); });
  afterAll(async () => { await h.destroy(); });

  it('organizers\' admins get "not found" for the page and the action, and nothing is created', async () => {
    const admin = await browser();
    expect((await admin.get(PAGE)).statusCode).toBe(404);
    expect((await admin.post(`${PAGE}/webhook-endpoint`, { requestId: '3f1d2c4b-1111-4222-8333-444455556666' })).statusCode).toBe(404);
    expect(await globalEndpoints()).toHaveLength(0);
    expect((await stripe().webhookEndpoints.list()).data).toHaveLength(0);
  });

  it('a forged form and a missing request id create nothing', async () => {
    const operator = await browser({ operator: true });
    const page = await operator.get(PAGE);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="stripe-instance-none"');
    const requestId = requestIdOf(page.body);
    expect((await operator.post(`${PAGE}/webhook-endpoint`, { requestId }, null)).statusCode).toBe(403);
    expect((await operator.post(`${PAGE}/webhook-endpoint`, { requestId }, 'forged')).statusCode).toBe(403);
    const bad = await operator.post(`${PAGE}/webhook-endpoint`, { requestId: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('requestId');
    expect(await globalEndpoints()).toHaveLength(0);
  });

  it('the operator creates it once for a double submit (pinned version), and its secret verifies the account\'s events', async () => {
    const operator = await browser({ operator: true });
    const requestId = requestIdOf((await operator.get(PAGE)).body);
    const answers = await Promise.all([0, 1].map(() => operator.post(`${PAGE}/webhook-endpoint`, { requestId })));
    expect(answers.map((a) => a.statusCode)).toEqual([303, 303]);
    const rows = await globalEndpoints();
    expect(rows).toHaveLength(1);
    const atStripe = (await stripe().webhookEndpoints.list()).data;
    expect(atStripe).toHaveLength(1);
    expect(atStripe[0]).toMatchObject({ id: rows[0]!.endpoint_id, url: `${h.baseUrl}/plugins/stripe/webhook/${rows[0]!.account_id}`, api_version: STRIPE_API_VERSION });
    expect((await operator.get(`${PAGE}?notice=endpoint`)).body).toContain(rows[0]!.endpoint_id);

    // Stripe signs the account's events with the endpoint's secret; the route accepts and stores them.
    await stripe().paymentIntents.create({ amount: 1500, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, return_url: 'https://shop.invalid/return' });
    await h.emulator.flushWebhooks();
    const stored = await h.db.dataSource.query(`SELECT type FROM stripe_webhook_inbox WHERE account = $1`, [rows[0]!.account_id]) as { type: string }[];
    expect(stored.map((r) => r.type)).toContain('payment_intent.succeeded');

    // A secret of another endpoint does not verify them.
    const secret = (await stripe().webhookEndpoints.create({ url: 'https://unused.invalid/', enabled_events: ['*'] })).secret as string;
    const event = JSON.stringify({ id: 'evt_instance_1', object: 'event', type: 'payment_intent.succeeded', api_version: STRIPE_API_VERSION, created: 1, livemode: false, data: { object: { id: 'pi_x', object: 'payment_intent' } } });
    const t = Math.floor(Date.now() / 1000);
    const signature = `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${event}`).digest('hex')}`;
    const refused = await h.app.inject({ method: 'POST', url: `/plugins/stripe/webhook/${rows[0]!.account_id}`, headers: { 'content-type': 'application/json', 'stripe-signature': signature }, payload: event });
    expect(refused.statusCode).toBe(400);
  });
});
