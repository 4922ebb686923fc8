import { eventSettings, globalSettings, organizerSettings } from '@kassa/core/host';
import { STRIPE_NAMESPACE, registerAccount } from '../../src';
import { handleCreateWebhookEndpoint } from '../../src/routes/control-routes';
import { chargeAccount } from '../../src/wallets/charge-account';
import { registerWalletDomain } from '../../src/wallets/domain-registration';
import { expressCheckoutView } from '../../src/wallets/express-checkout-view';
import { findWalletDomain } from '../../src/wallets/wallet-domain-rows';
import { syncWalletDomains } from '../../src/wallets/wallet-domain-sync';
import { createStripeHarness, httpRequest, type StripeHarness } from '../support/stripe-harness';

/**
 * Payment method domain registration against the emulator and the real database: list before
 * create (no duplicates at Stripe), one pmd id per (account, domain), validate while Apple Pay is
 * inactive, per account (a connected account with the Stripe-Account header), Stripe's refusals
 * kept for the domain page, and the pay page's decision to show the wallet.
 */
let h: StripeHarness;
beforeAll(async () => {
  h = await createStripeHarness({ currency: 'ISK', price: 4900 });
});
afterAll(async () => h.destroy());

const applePay = async (domain: string, passes: boolean) => {
  const res = await fetch(`${h.emulator.url}/_emulator/apple_pay_verification`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `domain_name=${domain}&passes=${passes}`,
  });
  expect(res.status).toBe(200);
};
const platform = async () => registerAccount(h.rt, organizerSettings(h.shop.organizer.id));
const atStripe = async (domain: string, stripeAccount?: string) =>
  (await h.stripe.paymentMethodDomains.list({ domain_name: domain }, stripeAccount ? { stripeAccount } : {})).data;

it('registers a domain once: a second registration and a domain added in the Dashboard reuse the pmd id', async () => {
  const ctx = await platform();
  const first = await registerWalletDomain(h.rt, chargeAccount(ctx), 'tickets.kassa-wallet.test');
  expect(first).toMatchObject({ accountId: ctx.account.accountId, domain: 'tickets.kassa-wallet.test', pmdId: expect.stringMatching(/^pmd_/), enabled: true, error: null });
  expect(first.wallets).toEqual({ apple_pay: { status: 'active' }, google_pay: { status: 'active' }, link: { status: 'active' } });
  const again = await registerWalletDomain(h.rt, chargeAccount(ctx), 'tickets.kassa-wallet.test');
  expect(again.pmdId).toBe(first.pmdId);
  expect(await atStripe('tickets.kassa-wallet.test')).toHaveLength(1);

  // Registered in Stripe's Dashboard (and switched off there) before Kassa knew it: found by listing, turned on, not created again.
  const manual = await h.stripe.paymentMethodDomains.create({ domain_name: 'shop.kassa-wallet.test', enabled: false });
  const adopted = await registerWalletDomain(h.rt, chargeAccount(ctx), 'shop.kassa-wallet.test');
  expect(adopted).toMatchObject({ pmdId: manual.id, enabled: true });
  expect(await atStripe('shop.kassa-wallet.test')).toEqual([expect.objectContaining({ id: manual.id, enabled: true })]);
});

it('Apple Pay inactive keeps Stripe\'s message; a later check validates and turns it active with the same pmd id', async () => {
  const ctx = await platform();
  await applePay('apple.kassa-wallet.test', false);
  const inactive = await registerWalletDomain(h.rt, chargeAccount(ctx), 'apple.kassa-wallet.test');
  expect(inactive.wallets.apple_pay).toEqual({ status: 'inactive', error: expect.stringMatching(/apple-developer-merchantid-domain-association/) });
  expect(inactive.wallets.google_pay).toEqual({ status: 'active' });

  await applePay('apple.kassa-wallet.test', true);
  const active = await registerWalletDomain(h.rt, chargeAccount(ctx), 'apple.kassa-wallet.test');
  expect(active).toMatchObject({ pmdId: inactive.pmdId, wallets: { apple_pay: { status: 'active' } } });
  expect((await h.stripe.paymentMethodDomains.retrieve(inactive.pmdId as string)).apple_pay.status).toBe('active');
  expect(await findWalletDomain(h.rt.db, ctx.account.accountId, 'apple.kassa-wallet.test')).toMatchObject({ wallets: { apple_pay: { status: 'active' } } });
});

it('registers per account: a connected account gets its own registration through the Stripe-Account header', async () => {
  const ctx = await platform();
  const connected = await h.stripe.accounts.create({ type: 'standard' });
  const direct = await registerWalletDomain(h.rt, chargeAccount(ctx, connected.id), 'direct.kassa-wallet.test');
  expect(direct.accountId).toBe(connected.id);
  expect(await atStripe('direct.kassa-wallet.test', connected.id)).toEqual([expect.objectContaining({ id: direct.pmdId })]);
  expect(await atStripe('direct.kassa-wallet.test')).toEqual([]);
  // The platform (destination charges) registers the same domain for itself: a second row, another pmd.
  const own = await registerWalletDomain(h.rt, chargeAccount(ctx), 'direct.kassa-wallet.test');
  expect(own.accountId).toBe(ctx.account.accountId);
  expect(own.pmdId).not.toBe(direct.pmdId);
  // chargeAccount with the platform's own id is the platform (no header).
  expect(chargeAccount(ctx, ctx.account.accountId)).toMatchObject({ connected: false, requestOptions: {} });
});

it('sync registers BASE_URL\'s host and the operator\'s domains for every account, keeps Stripe\'s refusal, and skips fresh rows', async () => {
  const ctx = await platform();
  await h.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: ['custom.kassa-wallet.test'] });
  const rows = await syncWalletDomains(h.rt);
  const own = rows.filter((r) => r.accountId === ctx.account.accountId);
  // The harness's BASE_URL host is an IP address, which Stripe refuses as a payment method domain.
  expect(own.map((r) => r.domain).sort()).toEqual(['127.0.0.1', 'custom.kassa-wallet.test']);
  expect(own.find((r) => r.domain === '127.0.0.1')).toMatchObject({ pmdId: null, error: expect.stringMatching(/domain_name/i) });
  expect(own.find((r) => r.domain === 'custom.kassa-wallet.test')).toMatchObject({ pmdId: expect.stringMatching(/^pmd_/), error: null });

  const checkedAt = (await findWalletDomain(h.rt.db, ctx.account.accountId, 'custom.kassa-wallet.test'))?.checkedAt;
  h.clock.advance({ minutes: 1 });
  await syncWalletDomains(h.rt);
  expect((await findWalletDomain(h.rt.db, ctx.account.accountId, 'custom.kassa-wallet.test'))?.checkedAt).toEqual(checkedAt);
  await syncWalletDomains(h.rt, { force: true });
  expect((await findWalletDomain(h.rt.db, ctx.account.accountId, 'custom.kassa-wallet.test'))?.checkedAt.getTime()).toBeGreaterThan(checkedAt?.getTime() ?? 0);
  expect(await atStripe('custom.kassa-wallet.test')).toHaveLength(1);
  await h.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: null });
});

it('creating the webhook endpoint after saving the keys enqueues the account\'s domain registration', async () => {
  const before = h.enqueued.length;
  const created = await handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
  const account = (created as { body: { account: string } }).body.account;
  expect(h.enqueued.slice(before)).toEqual([{ job: 'sync-wallet-domains', payload: { accountId: account }, jobId: `wallet-domains-${account}` }]);
});

describe('the pay page\'s wallet decision', () => {
  const view = (host: string | undefined, accountId: string, settings: Parameters<typeof expressCheckoutView>[1]['settings']) =>
    expressCheckoutView(h.rt, { hostHeader: host, accountId, settings, money: { amount: 4900, currency: 'ISK' }, businessName: 'Kassa Fest' });
  const settingsOf = async (target = organizerSettings(h.shop.organizer.id)) => {
    const { stripeSettingsFrom } = await import('../../src/stripe-account-context');
    return stripeSettingsFrom(await h.settings.resolve(target, STRIPE_NAMESPACE));
  };

  it('enqueues the registration of a never registered domain and shows no wallet until one is active there', async () => {
    const ctx = await platform();
    await h.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: ['pay.kassa-wallet.test'] });
    const before = h.enqueued.length;
    expect(await view('pay.kassa-wallet.test:443', ctx.account.accountId, await settingsOf())).toBeNull();
    expect(h.enqueued.slice(before)).toEqual([{ job: 'sync-wallet-domains', payload: { accountId: ctx.account.accountId }, jobId: `wallet-domains-${ctx.account.accountId}` }]);

    const pmd = await registerWalletDomain(h.rt, chargeAccount(ctx), 'pay.kassa-wallet.test');
    // ISK: zero-decimal for us, two-decimal "with 00" at Stripe: the sheet and the intent carry 490000.
    expect(await view('pay.kassa-wallet.test', ctx.account.accountId, await settingsOf())).toEqual({ amount: 490000, currency: 'isk', businessName: 'Kassa Fest' });
    // A host that is not one of ours (a forged Host header) never shows it.
    expect(await view('evil.example', ctx.account.accountId, await settingsOf())).toBeNull();

    // Every wallet inactive on the domain: no button.
    await applePay('pay.kassa-wallet.test', false);
    for (const wallet of ['apple_pay', 'google_pay', 'link']) {
      const res = await fetch(`${h.emulator.url}/_emulator/payment_method_domains/${pmd.pmdId}/wallet_status`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `wallet=${wallet}&status=inactive`,
      });
      expect([res.status, await res.text()]).toEqual([200, expect.any(String)]);
    }
    // The next check validates (Apple Pay is inactive), and Apple's verification now fails too.
    expect(Object.values((await registerWalletDomain(h.rt, chargeAccount(ctx), 'pay.kassa-wallet.test')).wallets).map((w) => w.status)).toEqual(['inactive', 'inactive', 'inactive']);
    expect(await view('pay.kassa-wallet.test', ctx.account.accountId, await settingsOf())).toBeNull();
    await h.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: null });
  });

  it('carries the amount in Stripe\'s exponent for the currency, and is switched off per event', async () => {
    const ctx = await platform();
    await h.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: ['event.kassa-wallet.test'] });
    await registerWalletDomain(h.rt, chargeAccount(ctx), 'event.kassa-wallet.test');
    const target = eventSettings({ id: h.shop.event.id, organizerId: h.shop.organizer.id });
    expect(await view('event.kassa-wallet.test', ctx.account.accountId, await settingsOf(target))).not.toBeNull();
    // The sheet's amount in Stripe's exponent: zero-decimal JPY as is, three-decimal KWD as is (ending in 0), ISK ×100.
    const money = async (amount: number, currency: string) => expressCheckoutView(h.rt, {
      hostHeader: 'event.kassa-wallet.test', accountId: ctx.account.accountId, settings: await settingsOf(target), money: { amount, currency }, businessName: 'Kassa Fest',
    });
    expect(await money(4200, 'JPY')).toMatchObject({ amount: 4200, currency: 'jpy' });
    expect(await money(12340, 'KWD')).toMatchObject({ amount: 12340, currency: 'kwd' });
    expect(await money(49, 'ISK')).toMatchObject({ amount: 4900, currency: 'isk' });
    await expect(money(12345, 'KWD')).rejects.toMatchObject({ code: 'PAYMENT_AMOUNT_INVALID' });
    await h.settings.set(target, STRIPE_NAMESPACE, { wallets: false });
    expect(await view('event.kassa-wallet.test', ctx.account.accountId, await settingsOf(target))).toBeNull();
    await h.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: null });
  });
});
