import { globalSettings, organizerSettings } from '@kassa/core/host';
import { createShop, type ShopFixture } from '@kassa/testing';
import { STRIPE_NAMESPACE } from '../../src';
import { handleWalletDomainsCheck } from '../../src/wallets/wallet-domain-routes';
import { createServerHarness, type ServerHarness } from '../support/server-harness';
import { httpRequest } from '../support/stripe-harness';

/**
 * The control panel's wallet domain page and its "check again" button through the real server
 * (session, CSRF, organizer scoping), with Apple's verifier (the emulator's fetchDomainFile)
 * fetching the association file from Kassa's own well-known route: a domain whose DNS does not
 * reach Kassa stays inactive with Stripe's message, and turns active once it does.
 */
const ASSOCIATION = '7B227073704964223A22' + 'A'.repeat(48);
/** The custom shop domains whose DNS points at this Kassa (the others answer 404 from elsewhere). */
const reachesKassa = new Set(['tickets.kassa-wallet.test']);

let h: ServerHarness;
let second: ShopFixture;
const OTHER_KEY = 'sk_test_walletOther';

beforeAll(async () => {
  h = await createServerHarness({
    baseUrl: 'http://tickets.kassa-wallet.test',
    applePayDomainAssociation: ASSOCIATION,
    emulator: (app) => ({
      fetchDomainFile: async (url) => {
        const u = new URL(url);
        if (!reachesKassa.has(u.hostname)) return { status: 404, body: 'not found' };
        const res = await app().inject({ method: 'GET', url: u.pathname, headers: { host: u.hostname } });
        return { status: res.statusCode, body: res.body };
      },
    }),
  });
  // The operator's custom shop domain (instance-only), not yet pointed at Kassa.
  await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: ['custom.kassa-wallet.test'] });
  second = await createShop(h.db.dataSource);
  await h.deps.settings.set(organizerSettings(second.organizer.id), STRIPE_NAMESPACE, {
    _enabled: true, secretKey: OTHER_KEY, publishableKey: h.emulator.keysFor(OTHER_KEY).publishableKey, maxNetworkRetries: 0,
  });
});
afterAll(async () => h.destroy());

const page = async (cookie: string) => h.app.inject({ method: 'GET', url: '/plugins/stripe/control/wallet-domains', headers: { cookie } });
const check = async (cookie: string, csrf: string | undefined) => h.app.inject({
  method: 'POST', url: '/plugins/stripe/control/wallet-domains/check',
  headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: csrf === undefined ? '' : `_csrf=${encodeURIComponent(csrf)}`,
});
const rows = async () => h.db.dataSource.query<{ account_id: string; domain: string; wallets: Record<string, { status: string }> }[]>(
  'SELECT account_id, domain, wallets FROM stripe_wallet_domain ORDER BY account_id, domain');
const statusOf = (html: string, domain: string, wallet: string) =>
  new RegExp(`data-domain="${domain.replace(/\./g, '\\.')}"[\\s\\S]*?data-wallet="${wallet}" data-status="([a-z]+)"`).exec(html)?.[1];

it('check again registers the domains, shows each wallet\'s status with Stripe\'s message and the way out, then Apple Pay turns active', async () => {
  const { cookie, csrf } = await h.signIn(h.shop.organizer.id);
  // The Stripe settings page links to it.
  expect((await h.app.inject({ method: 'GET', url: '/control/settings/payment/stripe', headers: { cookie } })).body).toContain('href="/plugins/stripe/control/wallet-domains"');
  const before = await page(cookie);
  expect(before.statusCode).toBe(200);
  expect(before.body).toContain('Not registered yet');
  expect(before.body).toContain('id="stripe-wallet-check"');

  const checked = await check(cookie, csrf);
  expect(checked.statusCode).toBe(303);
  expect(checked.headers.location).toBe('/plugins/stripe/control/wallet-domains');
  const after = await page(cookie);
  expect(statusOf(after.body, 'tickets.kassa-wallet.test', 'apple_pay')).toBe('active');
  expect(statusOf(after.body, 'custom.kassa-wallet.test', 'apple_pay')).toBe('inactive');
  expect(statusOf(after.body, 'custom.kassa-wallet.test', 'google_pay')).toBe('active');
  expect(after.body).toMatch(/answered HTTP 404/);
  expect(after.body).toContain('KASSA_APPLE_PAY_DOMAIN_ASSOCIATION_FILE');

  // The operator points the custom domain at Kassa; "check again" validates and Apple Pay turns active.
  reachesKassa.add('custom.kassa-wallet.test');
  expect((await check(cookie, csrf)).statusCode).toBe(303);
  expect(statusOf((await page(cookie)).body, 'custom.kassa-wallet.test', 'apple_pay')).toBe('active');
  expect((await rows()).filter((r) => r.domain === 'custom.kassa-wallet.test')).toHaveLength(1);
});

it('a forged or missing CSRF token is refused and nothing is registered', async () => {
  const { cookie } = await h.signIn(second.organizer.id);
  const before = await rows();
  expect((await check(cookie, undefined)).statusCode).toBe(403);
  expect((await check(cookie, 'forged-token')).statusCode).toBe(403);
  expect(await rows()).toEqual(before);
});

it('is scoped to the organizer: another organizer sees and checks only its own account', async () => {
  const { cookie, csrf } = await h.signIn(second.organizer.id);
  expect((await check(cookie, csrf)).statusCode).toBe(303);
  const accounts = [...new Set((await rows()).map((r) => r.account_id))];
  expect(accounts).toHaveLength(2);
  const secondPage = (await page(cookie)).body;
  const firstPage = (await page((await h.signIn(h.shop.organizer.id)).cookie)).body;
  const [ownAccount] = /data-account="(acct_[^"]+)"/.exec(secondPage)?.slice(1) ?? [];
  const [instanceAccount] = /data-account="(acct_[^"]+)"/.exec(firstPage)?.slice(1) ?? [];
  expect(ownAccount).toBeDefined();
  expect(instanceAccount).toBeDefined();
  expect(ownAccount).not.toBe(instanceAccount);
  // The instance's account is not shown to an organizer with its own keys, and the other way round.
  expect(secondPage).not.toContain(instanceAccount);
  expect(firstPage).not.toContain(ownAccount);
});

it('answers signed-out visitors with the login, and refuses "check again" to non-admins with a 404', async () => {
  const anonymous = await h.app.inject({ method: 'GET', url: '/plugins/stripe/control/wallet-domains' });
  expect([302, 303, 401]).toContain(anonymous.statusCode);
  await expect(handleWalletDomainsCheck(httpRequest({}, { organizerId: h.shop.organizer.id, isAdmin: false }), h.rt)).rejects.toMatchObject({ code: 'NOT_FOUND' });
});
