import { organizerSettings } from '@kassa/core/host';
import { STRIPE_NAMESPACE } from '../../src';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * Found by the distribution's fuzz test (packages/app/test/e2e/input-fuzz.test.ts): the control
 * actions that register an organizer's account first ask Stripe whose keys they are
 * (GET /v1/account), and a failure of that call (Stripe down, a key Stripe refuses) escaped as an
 * unexplained 500. It is STRIPE_API_ERROR (502) naming the call, like every other Stripe call, and
 * nothing is stored.
 */
describe('Stripe cannot be asked whose keys these are', () => {
  let h: ServerHarness;
  let admin: { cookie: string; csrf: string };

  beforeAll(async () => {
    // Every call to /v1/account answers 500 (the emulator's injected fault; stripe-node does not retry here, maxNetworkRetries 0).
    h = await createServerHarness({ emulator: { chaos: { error500: 1, path: '/v1/account' } } });
    // Keys of the organizer's own (on the instance's, "Create webhook endpoint" is refused before any call to Stripe).
    const key = 'sk_test_organizerWhenStripeIsDown';
    await h.deps.settings.set(organizerSettings(h.shop.organizer.id), STRIPE_NAMESPACE, { secretKey: key, publishableKey: h.emulator.keysFor(key).publishableKey });
    admin = await h.signIn(h.shop.organizer.id);
  });
  afterAll(async () => { await h.destroy(); });

  it.each([
    ['creating the webhook endpoint', '/plugins/stripe/control/webhook-endpoint'],
    ['checking the wallet domains', '/plugins/stripe/control/wallet-domains/check'],
  ])('%s answers 502 STRIPE_API_ERROR naming the call, storing nothing', async (_what, url) => {
    const res = await h.app.inject({
      method: 'POST', url, headers: { cookie: admin.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': admin.csrf }, payload: {},
    });
    expect([res.statusCode, res.json().error.code]).toEqual([502, 'STRIPE_API_ERROR']);
    expect(res.json().error.message).toContain('identify the account of the keys');
    expect(await h.db.dataSource.query('SELECT account_id FROM stripe_account')).toEqual([]);
    expect(h.jobs).toEqual([]);
  });
});
