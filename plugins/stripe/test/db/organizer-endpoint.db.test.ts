import Stripe from 'stripe';
import { globalSettings, organizerSettings } from '@kassa/core/host';
import { STRIPE_API_VERSION, STRIPE_NAMESPACE, createWebhookEndpoint, handleWebhook } from '../../src';
import { handleCreateWebhookEndpoint } from '../../src/routes/control-routes';
import { forgetWebhookSecrets } from '../../src/webhooks/endpoint-secrets';
import { accountSecrets, buyerConfirms, createStripeHarness, endpointSecret, httpRequest, paymentRow, placeStripeOrder, type StripeHarness } from '../support/stripe-harness';

/*
 * Stripe keys set instance-wide, the account registered globally by the host's endpoint, and an
 * organizer whose own settings hold the same account's keys (a one-organizer instance whose operator
 * entered them on the organizer's page too) creating its own endpoint from the control panel. An
 * organizer that merely inherits the instance's keys is refused (shared-keys-endpoint.test.ts); one
 * that sets them itself may. Its secret is stored on the endpoint's row (of the account, at the
 * organizer level), so every delivery to that endpoint is accepted, end to end.
 */
describe('an organizer-level webhook endpoint for an account registered globally', () => {
  let h: StripeHarness;
  let account: string;
  let globalEndpoint: string;
  let organizerEndpoint: string;

  const event = (id: string) => JSON.stringify({ id, object: 'event', type: 'payment_intent.created', api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000), data: { object: { id: 'pi_unrelated', object: 'payment_intent', metadata: {} } } });
  const post = (body: string, secret: string) => handleWebhook(httpRequest({ account }, {
    rawBody: Buffer.from(body), headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) },
  }), h.rt);

  beforeAll(async () => {
    h = await createStripeHarness({ keysAt: 'global' });
    // A refused delivery is not retried here, so a refusal shows in the delivery log at once.
    h.emulator.configureWebhooks({ retryDelaysMs: [] });
    // The host at start (bootstrap.ts): the global endpoint, which registers the account globally.
    const host = await createWebhookEndpoint(h.rt, globalSettings);
    account = host.account;
    globalEndpoint = host.endpointId;
    // Inherited, the instance's keys get no endpoint of the organizer's…
    const inherited = handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
    await expect(inherited).rejects.toMatchObject({ code: 'STRIPE_INSTANCE_KEYS_IN_USE' });
    // …set at the organizer's level, the same account's keys do.
    await h.settings.set(organizerSettings(h.shop.organizer.id), STRIPE_NAMESPACE, { secretKey: h.secretKey, publishableKey: h.emulator.keysFor(h.secretKey).publishableKey });
    // The organizer's admin clicks "Create webhook endpoint" on its own settings page.
    const res = await handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
    expect(res).toMatchObject({ status: 201, body: { account } });
    organizerEndpoint = (res as { body: { endpointId: string } }).body.endpointId;
  });
  afterAll(async () => { await h.destroy(); });

  it('the account stays registered globally; each endpoint has its own secret on its row, at the level it was made for', async () => {
    expect(await h.db.dataSource.query('SELECT scope, organizer_id FROM stripe_account WHERE account_id = $1', [account])).toEqual([{ scope: 'global', organizer_id: null }]);
    expect(await h.db.dataSource.query('SELECT endpoint_id, account_id, scope, organizer_id FROM stripe_webhook_endpoint ORDER BY created_at, endpoint_id')).toEqual([
      { endpoint_id: globalEndpoint, account_id: account, scope: 'global', organizer_id: null },
      { endpoint_id: organizerEndpoint, account_id: account, scope: 'organizer', organizer_id: h.shop.organizer.id },
    ]);
    const [g, o] = [await endpointSecret(h, globalEndpoint), await endpointSecret(h, organizerEndpoint)];
    expect(g).toMatch(/^whsec_/);
    expect(o).toMatch(/^whsec_/);
    expect((await accountSecrets(h)).sort()).toEqual([g, o].sort());
  });

  it('a payment is confirmed from deliveries to the organizer endpoint alone, each accepted with 2xx', async () => {
    // Only the organizer's endpoint is left at Stripe: every event reaches us through it.
    await h.stripe.webhookEndpoints.del(globalEndpoint);
    const { payment, intentId } = await placeStripeOrder(h);
    await buyerConfirms(h, intentId, 'pm_card_visa');
    await h.emulator.flushWebhooks();
    const deliveries = h.emulator.deliveries().filter((d) => d.endpoint === organizerEndpoint);
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.filter((d) => d.status !== 200)).toEqual([]);
    await h.runJobs();
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
    const [stored] = await h.db.dataSource.query(`SELECT count(*)::int AS n FROM stripe_webhook_inbox WHERE intent_id = $1 AND source = 'webhook'`, [intentId]);
    expect(stored.n).toBeGreaterThanOrEqual(1);
  });

  it("during a rotation every secret of the account's endpoints is accepted, and a foreign one still refused", async () => {
    const again = await handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
    expect(again).toMatchObject({ status: 201 });
    const own = await accountSecrets(h);
    expect(own).toHaveLength(3); // the global endpoint's and two organizer endpoints' secrets
    for (const [i, secret] of own.entries()) {
      expect(await post(event(`evt_rotation_${i}`), secret)).toMatchObject({ status: 200, body: { received: true } });
    }
    expect(await post(event('evt_forged'), 'whsec_notOurs')).toMatchObject({ status: 400, body: { error: { code: 'STRIPE_WEBHOOK_REFUSED' } } });
    expect(await h.db.dataSource.query(`SELECT 1 FROM stripe_webhook_inbox WHERE event_id = 'evt_forged'`)).toEqual([]);
  });

  it('the polling fallback stays off: the account has an endpoint secret, even though not at its own level', async () => {
    const { pollAccountEvents } = await import('../../src/jobs/stripe-jobs');
    await h.db.dataSource.query('UPDATE stripe_webhook_endpoint SET secret = NULL WHERE scope = $1', ['global']);
    forgetWebhookSecrets(h.rt.state, account);
    expect(await accountSecrets(h)).toHaveLength(2);
    expect(await pollAccountEvents(h.rt, account)).toEqual({ stored: 0, processed: 0 });
  });
});
