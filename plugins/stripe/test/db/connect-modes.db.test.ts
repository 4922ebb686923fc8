import { globalSettings } from '@kassa/core/host';
import { STRIPE_NAMESPACE, saveConnection } from '../../src';
import { testModeKey } from '../../src/connect/connect-routes';
import { stripeSettingsFrom } from '../../src/stripe-account-context';
import { enableConnect, stripeOffered, type ConnectPlatform } from '../support/connect-support';
import { createStripeHarness, type StripeHarness } from '../support/stripe-harness';

/*
 * Test and live connections against the emulator, which speaks test mode only: the refresh-token
 * redemption is exercised with a test key for a test connection (the live → test crossing itself
 * cannot run here), and a connection recorded as live is refused by a test platform unless Kassa
 * got test-mode access to it. The live-platform half is in test/unit/connect-modes.test.ts.
 */
describe('Stripe Connect: test and live connections (database, emulator)', () => {
  let h: StripeHarness;
  let platform: ConnectPlatform;
  beforeAll(async () => {
    h = await createStripeHarness({ price: 2500 });
    platform = await enableConnect(h, { model: 'destination' });
  });
  afterAll(async () => { await h.destroy(); });

  /** A Standard account connected by OAuth at the emulator: the token Stripe answers. */
  async function oauthToken() {
    const res = await fetch(`${h.emulator.url}/oauth/authorize`, {
      method: 'POST', redirect: 'manual',
      body: new URLSearchParams({ client_id: platform.clientId, redirect_uri: 'https://kassa.invalid/return', state: 's', scope: 'read_write', decision: 'allow' }),
    });
    const code = new URL(String(res.headers.get('location'))).searchParams.get('code') as string;
    return platform.stripe.oauth.token({ grant_type: 'authorization_code', code });
  }
  const settingsWith = async (extra: Record<string, unknown>) => stripeSettingsFrom({ ...(await h.settings.resolve(globalSettings, STRIPE_NAMESPACE)), ...extra });
  const rowOf = async (accountId: string) => (await h.db.dataSource.query(
    'SELECT livemode, test_publishable_key FROM stripe_connected_account WHERE account_id = $1 AND disconnected_at IS NULL', [accountId]))[0];

  it('the refresh token redeemed with the platform\'s test key gives the account\'s test-mode publishable key', async () => {
    const token = await oauthToken();
    expect(token.refresh_token).toMatch(/^rt_/);
    const key = await testModeKey(h.rt, await settingsWith({ platformTestSecretKey: platform.key, platformTestPublishableKey: platform.publishableKey }), token.refresh_token as string, token.stripe_user_id as string);
    expect(key).toBe(token.stripe_publishable_key);
    expect(key).toMatch(/^pk_test_/);
    // Without test keys nothing is asked; a refused token (revoked, foreign) leaves the connection without test access.
    expect(await testModeKey(h.rt, await settingsWith({}), token.refresh_token as string, 'acct_x')).toBeNull();
    expect(await testModeKey(h.rt, await settingsWith({ platformTestSecretKey: platform.key, platformTestPublishableKey: platform.publishableKey }), 'rt_unknown', 'acct_x')).toBeNull();
  });

  it('a live connection without test-mode access is not offered by a test platform, and an open payment is refused before any intent', async () => {
    const token = await oauthToken();
    const accountId = token.stripe_user_id as string;
    const account = await platform.stripe.accounts.retrieve(accountId);
    await saveConnection(h.rt, { organizerId: h.shop.organizer.id, eventId: null, account, livemode: false });
    expect(await rowOf(accountId)).toEqual({ livemode: false, test_publishable_key: null });
    expect(await stripeOffered(h)).toBe(true);
    // An order placed while it was offered…
    const placed = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'b@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    // …then the connection turns out to be live (recorded as live at the next connect), without test access.
    await saveConnection(h.rt, { organizerId: h.shop.organizer.id, eventId: null, account, livemode: true });
    expect(await rowOf(accountId)).toEqual({ livemode: true, test_publishable_key: null });
    expect(await stripeOffered(h)).toBe(false);
    await expect(h.core.payments.executePayment(placed.payment!.id, {})).rejects.toMatchObject({ code: 'STRIPE_CONNECT_REFUSED' });
    const intents = await platform.stripe.paymentIntents.list({ limit: 100 });
    expect(intents.data.filter((pi) => pi.metadata.order_id === placed.order.id || pi.transfer_data?.destination === accountId)).toEqual([]);
    // With test-mode access (the test-mode key obtained), the test platform charges it.
    await saveConnection(h.rt, { organizerId: h.shop.organizer.id, eventId: null, account, livemode: true, testPublishableKey: String(token.stripe_publishable_key) });
    expect(await rowOf(accountId)).toEqual({ livemode: true, test_publishable_key: token.stripe_publishable_key });
    // The refused payment failed (core's answer to a provider refusal); the buyer pays again.
    expect((await h.core.payments.loadPayment(placed.payment!.id)).payment.state).toBe('failed');
    expect(await stripeOffered(h)).toBe(true);
    const again = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'b@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    const { outcome } = await h.core.payments.executePayment(again.payment!.id, {});
    expect(outcome.kind).toBe('requires_action');
    const info = (await h.core.payments.loadPayment(again.payment!.id)).payment.info as { intentId: string };
    expect(await platform.stripe.paymentIntents.retrieve(info.intentId)).toMatchObject({ transfer_data: { destination: accountId }, livemode: false });
  });
});
