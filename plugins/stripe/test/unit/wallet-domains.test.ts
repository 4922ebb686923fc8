import { createStripeClient } from '../../src';
import { chargeAccount } from '../../src/wallets/charge-account';
import { needsCheck, pmdCreateKey, walletDomains } from '../../src/wallets/domain-registration';
import { anyWalletActive, type WalletDomain } from '../../src/wallets/wallet-domain-rows';

const platform = { account: { accountId: 'acct_platform' }, stripe: createStripeClient({ secretKey: 'sk_test_unit', apiBase: 'http://127.0.0.1:9' }) } as Parameters<typeof chargeAccount>[0];
const row = (over: Partial<WalletDomain> = {}): WalletDomain => ({
  accountId: 'acct_platform', domain: 'tickets.example.org', pmdId: 'pmd_1', enabled: true, error: null, checkedAt: new Date('2030-01-01T10:00:00Z'),
  wallets: { apple_pay: { status: 'active' }, google_pay: { status: 'active' }, link: { status: 'active' } }, ...over,
});

describe('wallet domains', () => {
  it('are BASE_URL\'s host (no port, lower case) and the operator\'s custom domains, each once', () => {
    expect(walletDomains('https://Tickets.Example.org:8443/kassa', { walletDomains: [] })).toEqual(['tickets.example.org']);
    expect(walletDomains('https://tickets.example.org', { walletDomains: ['Shop.Example.org', 'tickets.example.org'] })).toEqual(['tickets.example.org', 'shop.example.org']);
  });

  it('the account that runs the charge: the platform without a header, a connected account with Stripe-Account', () => {
    expect(chargeAccount(platform)).toMatchObject({ accountId: 'acct_platform', requestOptions: {}, connected: false });
    expect(chargeAccount(platform, null)).toMatchObject({ accountId: 'acct_platform', requestOptions: {}, connected: false });
    expect(chargeAccount(platform, 'acct_connected')).toMatchObject({ accountId: 'acct_connected', requestOptions: { stripeAccount: 'acct_connected' }, connected: true });
    expect(chargeAccount(platform, 'acct_connected').stripe).toBe(platform.stripe);
    // The create key is per (account, domain): the same domain on two accounts are two registrations.
    expect(pmdCreateKey('acct_a', 'x.example.org')).not.toBe(pmdCreateKey('acct_b', 'x.example.org'));
  });

  it('the periodic sync asks Stripe again only for new, refused or Apple-Pay-inactive domains (hourly)', () => {
    const at = new Date('2030-01-01T10:30:00Z');
    expect(needsCheck(null, at)).toBe(true);
    expect(needsCheck(row({ error: 'Invalid domain_name', pmdId: null }), at)).toBe(true);
    expect(needsCheck(row(), at)).toBe(false);
    const inactive = row({ wallets: { apple_pay: { status: 'inactive', error: 'HTTP 404' }, google_pay: { status: 'active' } } });
    expect(needsCheck(inactive, at)).toBe(false);
    expect(needsCheck(inactive, new Date('2030-01-01T11:00:00Z'))).toBe(true);
  });

  it('a domain shows the wallet when registered, enabled and one wallet is active there', () => {
    expect(anyWalletActive(row())).toBe(true);
    expect(anyWalletActive(null)).toBe(false);
    expect(anyWalletActive(row({ enabled: false }))).toBe(false);
    expect(anyWalletActive(row({ pmdId: null }))).toBe(false);
    expect(anyWalletActive(row({ wallets: { apple_pay: { status: 'inactive' }, google_pay: { status: 'inactive' }, link: { status: 'inactive' } } }))).toBe(false);
    expect(anyWalletActive(row({ wallets: { link: { status: 'active' } } }))).toBe(true);
  });
});
