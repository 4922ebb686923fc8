import { money } from '@kassa/core';
import { signConnection, type ConnectionClaim } from '../../src/connect/connection-token';
import { connectChargeFor, connectionModeProblem, platformLive } from '../../src/connect/connect-charge';
import { settingsProblems } from '../../src/settings-schema';
import { stripeSettingsFrom } from '../../src/stripe-account-context';

/*
 * Test and live connections: the platform charges in the mode of its secret key; a connection of
 * the other mode is refused before any call to Stripe, unless Kassa got test-mode access to a live
 * connection. Live keys cannot reach the emulator, so the live half is proven here, on the pure rule
 * and on connectChargeFor (which executePayment calls before creating any intent).
 */
describe('Stripe Connect: test and live connections', () => {
  const claim = (c: Partial<ConnectionClaim>): ConnectionClaim => ({
    level: 'o:o1', accountId: 'acct_c', accountType: 'standard', chargesEnabled: true, country: 'DE', crossBorder: false, platformAccount: 'acct_p', ...c,
  });
  const live = { platformSecretKey: 'sk_live_p' };
  const test = { platformSecretKey: 'sk_test_p' };

  it('knows the platform\'s mode from its secret key (restricted keys too)', () => {
    expect(platformLive(live)).toBe(true);
    expect(platformLive({ platformSecretKey: 'rk_live_p' })).toBe(true);
    expect(platformLive(test)).toBe(false);
    expect(platformLive({})).toBe(false);
  });

  it('same mode: fine; live platform with a test connection: refused; test platform with a live connection: only with test-mode access', () => {
    expect(connectionModeProblem(live, claim({ livemode: true }))).toBeNull();
    expect(connectionModeProblem(test, claim({ livemode: false }))).toBeNull();
    expect(connectionModeProblem(live, claim({ livemode: false }))).toMatch(/connected in test mode but the platform charges in live mode/);
    expect(connectionModeProblem(test, claim({ livemode: true }))).toMatch(/no test-mode access.*platformTestSecretKey/);
    expect(connectionModeProblem(test, claim({ livemode: true, testAccess: true }))).toBeNull();
    // Test access does not make a test connection usable live.
    expect(connectionModeProblem(live, claim({ livemode: false, testAccess: true }))).not.toBeNull();
    // Connections published before the mode was recorded are not checked.
    expect(connectionModeProblem(live, claim({}))).toBeNull();
  });

  it('connectChargeFor refuses a connection of the other mode with STRIPE_CONNECT_REFUSED (409)', () => {
    const settings = (key: string, c: Partial<ConnectionClaim>) => stripeSettingsFrom({
      platformSecretKey: key, platformPublishableKey: key.replace(/^sk_/, 'pk_'), connectChargeModel: 'destination',
      connectAccount: signConnection(key, claim(c)),
    });
    const event = { id: 'e1', organizerId: 'o1' };
    expect(() => connectChargeFor(settings('sk_live_p', { livemode: false }), event, money(1000, 'EUR'))).toThrow(expect.objectContaining({ code: 'STRIPE_CONNECT_REFUSED', status: 409 }));
    expect(() => connectChargeFor(settings('sk_test_p', { livemode: true }), event, money(1000, 'EUR'))).toThrow(expect.objectContaining({ code: 'STRIPE_CONNECT_REFUSED' }));
    expect(connectChargeFor(settings('sk_live_p', { livemode: true }), event, money(1000, 'EUR'))).toMatchObject({ account: 'acct_c' });
    expect(connectChargeFor(settings('sk_test_p', { livemode: true, testAccess: true }), event, money(1000, 'EUR'))).toMatchObject({ account: 'acct_c' });
  });

  it('the platform\'s test keys are set together, are test keys, and go with a platform key', () => {
    const base = { platformSecretKey: 'sk_live_p', platformPublishableKey: 'pk_live_p' };
    expect(settingsProblems(stripeSettingsFrom({ ...base, platformTestSecretKey: 'sk_test_t', platformTestPublishableKey: 'pk_test_t' })).join('\n')).not.toMatch(/platformTest/);
    expect(settingsProblems(stripeSettingsFrom({ ...base, platformTestSecretKey: 'sk_test_t' })).join('\n')).toMatch(/platformTestSecretKey and platformTestPublishableKey are set together/);
    expect(settingsProblems(stripeSettingsFrom({ platformTestSecretKey: 'sk_test_t', platformTestPublishableKey: 'pk_test_t' })).join('\n')).toMatch(/needs platformSecretKey/);
  });
});
