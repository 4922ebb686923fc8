import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, withEmulator } from './helpers';

/**
 * §8.1 payment method domains with the Apple Pay association file fetched through the injected
 * `fetchDomainFile`, and the wallet PaymentMethods the Express Checkout double hands over.
 */
let emu: RunningEmulator;
let site: http.Server;
/** What the merchant's site serves at the well-known path, per host. */
const wellKnown = new Map<string, string>();
const fetched: string[] = [];
let stripe: Stripe;
let key: string;

beforeAll(async () => {
  site = http.createServer((req, res) => {
    const body = wellKnown.get(String(req.headers.host));
    if (req.url === '/.well-known/apple-developer-merchantid-domain-association' && body !== undefined) {
      res.end(body);
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const port = (site.address() as AddressInfo).port;
  emu = await withEmulator({
    // Apple's verifier fetches https://<domain>/…; the test routes it to the local site with the Host header kept.
    fetchDomainFile: async (url) => {
      fetched.push(url);
      const u = new URL(url);
      return new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: u.pathname, headers: { host: u.hostname } }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    },
  });
});
afterAll(async () => {
  await emu.close();
  await new Promise<void>((resolve) => site.close(() => resolve()));
});
beforeEach(() => {
  key = freshKey();
  stripe = stripeFor(emu, key);
});
afterEach(() => expect(emu.errors()).toEqual([]));

describe('payment method domains (§8.1)', () => {
  it('Apple Pay stays inactive until the association file is fetchable from the domain, then validate activates it', async () => {
    const d = await stripe.paymentMethodDomains.create({ domain_name: 'Shop.Kassa-Wallet.test' });
    expect(fetched).toContain('https://shop.kassa-wallet.test/.well-known/apple-developer-merchantid-domain-association');
    expect(d).toMatchObject({ object: 'payment_method_domain', domain_name: 'shop.kassa-wallet.test', enabled: true, apple_pay: { status: 'inactive' } });
    expect(d.apple_pay.status_details?.error_message).toMatch(/HTTP 404/);
    for (const w of ['google_pay', 'link', 'paypal'] as const) expect(d[w]).toEqual({ status: 'active' });

    // An empty file does not verify either.
    wellKnown.set('shop.kassa-wallet.test', '   ');
    expect((await stripe.paymentMethodDomains.validate(d.id)).apple_pay).toMatchObject({ status: 'inactive', status_details: { error_message: expect.stringMatching(/empty/) } });

    wellKnown.set('shop.kassa-wallet.test', '7B227073704964223A2246...association');
    const validated = await stripe.paymentMethodDomains.validate(d.id);
    expect(validated.apple_pay).toEqual({ status: 'active' });
    expect((await stripe.paymentMethodDomains.retrieve(d.id)).apple_pay.status).toBe('active');

    // The file disappearing is noticed on the next validate.
    wellKnown.delete('shop.kassa-wallet.test');
    expect((await stripe.paymentMethodDomains.validate(d.id)).apple_pay.status).toBe('inactive');
  });

  it('registering a domain that serves the file is active at once; list filters by domain_name and enabled', async () => {
    wellKnown.set('tickets.kassa-wallet.test', 'association');
    const a = await stripe.paymentMethodDomains.create({ domain_name: 'tickets.kassa-wallet.test' });
    const b = await stripe.paymentMethodDomains.create({ domain_name: 'other.kassa-wallet.test', enabled: false });
    expect(a.apple_pay.status).toBe('active');
    expect((await stripe.paymentMethodDomains.list({ domain_name: 'tickets.kassa-wallet.test' })).data.map((d) => d.id)).toEqual([a.id]);
    expect((await stripe.paymentMethodDomains.list({ enabled: false })).data.map((d) => d.id)).toEqual([b.id]);
    expect((await stripe.paymentMethodDomains.list({ enabled: true })).data.map((d) => d.id)).toEqual([a.id]);
    expect((await stripe.paymentMethodDomains.update(b.id, { enabled: true })).enabled).toBe(true);
    expect((await stripe.paymentMethodDomains.list()).data).toHaveLength(2);
    await expect(stripe.paymentMethodDomains.create({ domain_name: 'tickets.kassa-wallet.test' })).rejects.toMatchObject({ code: 'resource_already_exists', param: 'domain_name' });
    await expect(stripe.paymentMethodDomains.create({ domain_name: 'not a domain' })).rejects.toMatchObject({ param: 'domain_name' });
    await expect(stripe.paymentMethodDomains.retrieve('pmd_missing')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('is per account: a connected account (Stripe-Account) has its own domains', async () => {
    const acct = await stripe.accounts.create({ type: 'standard' });
    const own = await stripe.paymentMethodDomains.create({ domain_name: 'direct.kassa-wallet.test' }, { stripeAccount: acct.id });
    expect((await stripe.paymentMethodDomains.list({ domain_name: 'direct.kassa-wallet.test' })).data).toHaveLength(0);
    expect((await stripe.paymentMethodDomains.list({}, { stripeAccount: acct.id })).data.map((d) => d.id)).toEqual([own.id]);
    await expect(stripe.paymentMethodDomains.retrieve(own.id)).rejects.toMatchObject({ statusCode: 404 });
    // The platform may register the same domain for its own (destination) charges.
    expect((await stripe.paymentMethodDomains.create({ domain_name: 'direct.kassa-wallet.test' })).id).not.toBe(own.id);
  });

  it('a wallet status can be made inactive with a message (control), e.g. PayPal not enabled', async () => {
    const d = await stripe.paymentMethodDomains.create({ domain_name: 'pp.kassa-wallet.test' });
    const res = await raw(emu, 'POST', `/_emulator/payment_method_domains/${d.id}/wallet_status`, 'wallet=paypal&status=inactive&error_message=PayPal+is+not+enabled');
    expect(res.status).toBe(200);
    expect((await stripe.paymentMethodDomains.retrieve(d.id)).paypal).toEqual({ status: 'inactive', status_details: { error_message: 'PayPal is not enabled' } });
  });
});

describe('the test wallet (§8.3)', () => {
  it('hands over a card PaymentMethod with card.wallet.type; the charge carries it too', async () => {
    const { publishableKey } = emu.keysFor(key);
    await raw(emu, 'POST', '/_emulator/wallet_config', `key=${key}&available[]=apple_pay&available[]=link`);
    const pk = { Authorization: `Bearer ${publishableKey}` };
    const created = await raw(emu, 'POST', '/_emulator/wallet/payment_method', 'wallet=apple_pay&billing_details[email]=buyer@example.com', pk);
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ type: 'card', card: { brand: 'visa', last4: '4242', wallet: { type: 'apple_pay', dynamic_last4: '4242', apple_pay: {} } }, billing_details: { email: 'buyer@example.com' } });
    // google_pay is not offered by this account's wallet now.
    expect((await raw(emu, 'POST', '/_emulator/wallet/payment_method', 'wallet=google_pay', pk)).json.error.param).toBe('wallet');

    const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'eur', payment_method: created.json.id, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    expect(pi.status).toBe('succeeded');
    const pm = await stripe.paymentMethods.retrieve(created.json.id);
    expect(pm.card?.wallet?.type).toBe('apple_pay');
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(ch.payment_method_details?.card?.wallet?.type).toBe('apple_pay');
  });

  it('the wallet card decides the outcome (a declining card declines the wallet payment)', async () => {
    const { publishableKey } = emu.keysFor(key);
    await raw(emu, 'POST', '/_emulator/wallet_config', `key=${key}&available[]=google_pay&card=pm_card_chargeDeclined`);
    const pm = await raw(emu, 'POST', '/_emulator/wallet/payment_method', 'wallet=google_pay', { Authorization: `Bearer ${publishableKey}` });
    await expect(
      stripe.paymentIntents.create({ amount: 2500, currency: 'eur', payment_method: pm.json.id, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } }),
    ).rejects.toMatchObject({ type: 'StripeCardError', decline_code: 'generic_decline' });
    expect((await raw(emu, 'POST', '/_emulator/wallet_config', `key=${key}&card=1234`)).json.error.param).toBe('card');
  });

  it('with require_domain, wallets show only where the domain is registered, enabled and the wallet active', async () => {
    const { publishableKey } = emu.keysFor(key);
    const pk = { Authorization: `Bearer ${publishableKey}` };
    await raw(emu, 'POST', '/_emulator/wallet_config', `key=${key}&available[]=apple_pay&available[]=google_pay&require_domain=true`);
    const offered = async (host: string) => (await raw(emu, 'GET', `/_emulator/wallet?host=${host}`, undefined, pk)).json.available_payment_methods;
    expect(await offered('pay.kassa-wallet.test')).toMatchObject({ applePay: false, googlePay: false });
    const d = await stripe.paymentMethodDomains.create({ domain_name: 'pay.kassa-wallet.test' });
    expect(await offered('pay.kassa-wallet.test')).toMatchObject({ applePay: false, googlePay: true, link: false });
    wellKnown.set('pay.kassa-wallet.test', 'association');
    await stripe.paymentMethodDomains.validate(d.id);
    expect(await offered('pay.kassa-wallet.test')).toMatchObject({ applePay: true, googlePay: true });
    await stripe.paymentMethodDomains.update(d.id, { enabled: false });
    expect(await offered('pay.kassa-wallet.test')).toMatchObject({ applePay: false, googlePay: false });
    expect(await offered('elsewhere.kassa-wallet.test')).toMatchObject({ applePay: false, googlePay: false });
  });
});
