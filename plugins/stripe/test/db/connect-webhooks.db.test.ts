import { createConnectWebhookEndpoint, type ConnectedAccount } from '../../src';
import { handleConnectWebhook } from '../../src/connect/connect-webhook';
import { buyerConfirmsOn, connectAccount, enableConnect, setModel, stripeOffered, type ConnectPlatform } from '../support/connect-support';
import { createStripeHarness, httpRequest, paymentRow, placeStripeOrder, refundRows, type StripeHarness } from '../support/stripe-harness';
import Stripe from 'stripe';

const generateTestHeader = (payload: string, secret: string): string => Stripe.webhooks.generateTestHeaderString({ payload, secret });

/*
 * Events of connected accounts on the platform's Connect endpoint: verified with the Connect
 * secret only, routed by `account`, processed through the inbox like every other event.
 */
describe('Stripe Connect webhooks', () => {
  let h: StripeHarness;
  let platform: ConnectPlatform;
  const control = (path: string, body: Record<string, string> = {}) =>
    fetch(`${h.emulator.url}/_emulator${path}`, { method: 'POST', body: new URLSearchParams(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
  const deliver = async () => { await h.emulator.flushWebhooks(); return h.runJobs(); };
  const connection = async (accountId: string) =>
    (await h.db.dataSource.query('SELECT charges_enabled, requirements, disconnected_at IS NOT NULL AS gone FROM stripe_connected_account WHERE account_id = $1', [accountId]))[0];

  beforeAll(async () => {
    h = await createStripeHarness({ price: 2500 });
    platform = await enableConnect(h, { model: 'direct', fees: { EUR: { percent: '10', fixed: 0, min: 0, max: null } } });
    const { endpointId } = await createConnectWebhookEndpoint(h.rt);
    const endpoint = await platform.stripe.webhookEndpoints.retrieve(endpointId);
    expect(endpoint).toMatchObject({ url: `${h.baseUrl}/plugins/stripe/webhook-connect` });
  });
  afterAll(async () => { await h.destroy(); });

  it('account.updated keeps the copy current: offered once charges are enabled, not offered when Stripe needs more', async () => {
    const c: ConnectedAccount = await connectAccount(h, platform, { onboarded: false });
    expect(await stripeOffered(h)).toBe(false);
    await control(`/accounts/${c.accountId}/complete_onboarding`);
    const outcomes = await deliver();
    expect(outcomes).toEqual(expect.arrayContaining([expect.stringMatching(/^account refreshed: charges enabled/)]));
    expect(await connection(c.accountId)).toMatchObject({ charges_enabled: true, gone: false });
    expect(await stripeOffered(h)).toBe(true);
    await control(`/accounts/${c.accountId}/requirements`, { 'past_due[]': 'individual.id_number', disabled_reason: 'requirements.past_due' });
    await deliver();
    const after = await connection(c.accountId);
    expect(after.charges_enabled).toBe(false);
    expect(after.requirements.past_due).toContain('individual.id_number');
    expect(await stripeOffered(h)).toBe(false);
  });

  it('a direct charge is confirmed from its Connect events alone, and a refund in the account\'s dashboard is booked once', async () => {
    await setModel(h, 'direct');
    const c = await connectAccount(h, platform);
    const { payment, intentId } = await placeStripeOrder(h);
    await buyerConfirmsOn(platform.on(c.accountId), intentId);
    await deliver();
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
    await platform.on(c.accountId).refunds.create({ payment_intent: intentId, amount: 500 });
    h.emulator.configureWebhooks({ duplicateRate: 1 });
    await deliver();
    h.emulator.configureWebhooks({ duplicateRate: 0 });
    expect(await refundRows(h, payment.id)).toEqual([expect.objectContaining({ state: 'external', amount: 500 })]);
  });

  it('a lost chargeback on a direct charge (on the connected account) books one external refund, even with its events repeated', async () => {
    await setModel(h, 'direct');
    const c = await connectAccount(h, platform);
    const { payment, intentId } = await placeStripeOrder(h);
    const pi = await buyerConfirmsOn(platform.on(c.accountId), intentId);
    await deliver();
    const dispute = await control(`/charges/${String(pi.latest_charge)}/dispute`, { kind: 'chargeback' });
    await control(`/disputes/${String(dispute.id)}/advance`, { to: 'lost' });
    h.emulator.configureWebhooks({ duplicateRate: 1 });
    await deliver();
    h.emulator.configureWebhooks({ duplicateRate: 0 });
    expect(await refundRows(h, payment.id)).toEqual([expect.objectContaining({ state: 'external', amount: 2500, external_id: dispute.id })]);
  });

  it('account.application.deauthorized (or a call refused with account_invalid) clears the connection, disables the provider, and stops offering Stripe', async () => {
    const c = await connectAccount(h, platform, { type: 'standard' });
    expect(await stripeOffered(h)).toBe(true);
    await control(`/accounts/${c.accountId}/deauthorize`);
    const outcomes = await deliver();
    // Events still queued for the account may fail with account_invalid first: they clear it too.
    expect(outcomes).toEqual(expect.arrayContaining([expect.stringMatching(/^deauthorized: /)]));
    expect(outcomes.filter((o) => /^(deauthorized|access revoked): 1 connection/.test(o))).toHaveLength(1);
    expect(await connection(c.accountId)).toMatchObject({ gone: true });
    expect(await stripeOffered(h)).toBe(false);
  });

  it('refuses an event signed with another secret, and one without `account`; nothing is stored', async () => {
    const before = (await h.db.dataSource.query('SELECT count(*)::int AS n FROM stripe_webhook_inbox'))[0].n;
    const event = { id: 'evt_forged1', object: 'event', type: 'account.updated', account: 'acct_1x', data: { object: { id: 'acct_1x', object: 'account' } } };
    const body = JSON.stringify(event);
    const forged = await handleConnectWebhook(httpRequest({}, { rawBody: Buffer.from(body), headers: { 'stripe-signature': generateTestHeader(body, 'whsec_notours') } }), h.rt);
    expect(forged).toMatchObject({ status: 400 });
    const [row] = await h.db.dataSource.query('SELECT endpoint_id, secret FROM stripe_connect_endpoint LIMIT 1');
    const secret = h.settings.openSecret(`stripe-connect-endpoint:${row.endpoint_id}`, row.secret) as string;
    const noAccount = JSON.stringify({ ...event, id: 'evt_forged2', account: undefined });
    const res = await handleConnectWebhook(httpRequest({}, { rawBody: Buffer.from(noAccount), headers: { 'stripe-signature': generateTestHeader(noAccount, secret) } }), h.rt);
    expect(res).toMatchObject({ status: 400 });
    expect((await h.db.dataSource.query('SELECT count(*)::int AS n FROM stripe_webhook_inbox'))[0].n).toBe(before);
  });

  // The same shape check as an account endpoint's: a correctly signed body that the inbox cannot
  // store is refused with 400, never a 500 from PostgreSQL.
  it.each([
    ['an array', '[]'],
    ['an event id with a NUL character', JSON.stringify({ id: 'evt_c_nul', object: 'event', type: 'account.updated', account: 'acct_1x', data: { object: { id: 'acct_1x', object: 'account' } } }).replace('evt_c_nul', 'evt_\\u0000nul')],
    ['a NUL character deep in the object', JSON.stringify({ id: 'evt_c_deep', object: 'event', type: 'account.updated', account: 'acct_1x', data: { object: { id: 'acct_1x', object: 'account', business_profile: { name: 'a\u0000b' } } } })],
  ])('refuses a correctly signed Connect event with %s: 400, nothing stored', async (_what, body) => {
    const before = (await h.db.dataSource.query('SELECT count(*)::int AS n FROM stripe_webhook_inbox'))[0].n;
    const [row] = await h.db.dataSource.query('SELECT endpoint_id, secret FROM stripe_connect_endpoint LIMIT 1');
    const secret = h.settings.openSecret(`stripe-connect-endpoint:${row.endpoint_id}`, row.secret) as string;
    const res = await handleConnectWebhook(httpRequest({}, { rawBody: Buffer.from(body), headers: { 'stripe-signature': generateTestHeader(body, secret) } }), h.rt);
    expect(res).toMatchObject({ status: 400 });
    expect((await h.db.dataSource.query('SELECT count(*)::int AS n FROM stripe_webhook_inbox'))[0].n).toBe(before);
  });
});
