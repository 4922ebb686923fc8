import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, stripeFor, withEmulator } from './helpers';

/**
 * More Stripe.js double flows: deferred intents with elements.submit(), Express Checkout,
 * confirmSetup, handleNextAction after a server-side confirm, and direct charges through
 * Stripe(pk, {stripeAccount}). Each page gets its script body through the `script` query.
 */
let emu: RunningEmulator;
let browser: Browser;
let shop: http.Server;
let shopUrl: string;
let stripe: Stripe;
let pk: string;
const scripts = new Map<string, string>();

beforeAll(async () => {
  emu = await withEmulator();
  const key = freshKey();
  stripe = stripeFor(emu, key);
  pk = emu.keysFor(key).publishableKey;
  shop = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    res.setHeader('Content-Type', 'text/html');
    const body = scripts.get(url.searchParams.get('script') ?? '');
    if (url.pathname === '/page' && body) {
      res.end(`<!doctype html><html><head><script src="${emu.stripeJsUrl}"></script></head><body>
<div id="mount"></div><button id="go">Go</button><pre id="result"></pre>
<script>const out = (v) => { document.getElementById('result').textContent = JSON.stringify(v); };
${body}</script></body></html>`);
    } else {
      res.end(`<!doctype html><p id="return">${url.search}</p>`);
    }
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => shop.close(() => resolve()));
  await emu.close();
});

async function open(name: string, script: string): Promise<Page> {
  scripts.set(name, script);
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${shopUrl}/page?script=${name}`);
  return page;
}

async function fillCard(page: Page, number: string): Promise<void> {
  await page.fill('#kassa-card-number', number);
  await page.fill('#kassa-card-expiry', '12/34');
  await page.fill('#kassa-card-cvc', '123');
}

async function result(page: Page): Promise<Record<string, unknown>> {
  await page.waitForFunction(() => document.getElementById('result')?.textContent !== '');
  return JSON.parse((await page.textContent('#result')) as string);
}

it('deferred intent: submit() first, then confirmPayment with a server-created PI and redirect if_required', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 3100, currency: 'eur', capture_method: 'manual' });
  const page = await open('deferred', `
    const stripe = Stripe(${JSON.stringify(pk)});
    const elements = stripe.elements({ mode: 'payment', amount: 3100, currency: 'eur', captureMethod: 'manual' });
    elements.create('payment').mount('#mount');
    document.getElementById('go').onclick = async () => {
      const early = await stripe.confirmPayment({ elements, clientSecret: ${JSON.stringify(pi.client_secret)}, redirect: 'if_required' }).catch((e) => e.name);
      const submitted = await elements.submit();
      if (submitted.error) return out({ early, error: submitted.error.code });
      const r = await stripe.confirmPayment({ elements, clientSecret: ${JSON.stringify(pi.client_secret)}, redirect: 'if_required' });
      out({ early, status: r.paymentIntent && r.paymentIntent.status });
    };`);
  try {
    await page.click('#go');
    expect(await result(page)).toEqual({ early: 'IntegrationError', error: 'incomplete_number' });
    await page.evaluate(() => (document.getElementById('result') as HTMLElement).textContent = '');
    await fillCard(page, '5555555555554444');
    await page.click('#go');
    expect(await result(page)).toEqual({ early: 'IntegrationError', status: 'requires_capture' });
    expect((await stripe.paymentIntents.retrieve(pi.id)).amount_capturable).toBe(3100);
  } finally {
    await page.close();
  }
});

it('express checkout: ready, click resolved, confirm, then confirmPayment with the wallet card', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1800, currency: 'eur' });
  const page = await open('express', `
    const stripe = Stripe(${JSON.stringify(pk)});
    const elements = stripe.elements({ mode: 'payment', amount: 1800, currency: 'eur' });
    const express = elements.create('expressCheckout');
    const seen = [];
    express.on('ready', (e) => seen.push('ready:' + Object.keys(e.availablePaymentMethods).filter((k) => e.availablePaymentMethods[k]).join(',')));
    express.on('click', (e) => { seen.push('click:' + e.expressPaymentType); e.resolve(); });
    express.on('confirm', async (e) => {
      seen.push('confirm');
      await elements.submit();
      const r = await stripe.confirmPayment({ elements, clientSecret: ${JSON.stringify(pi.client_secret)}, redirect: 'if_required' });
      out({ seen, status: r.paymentIntent && r.paymentIntent.status });
    });
    express.mount('#mount');`);
  try {
    await page.click('#kassa-express-checkout-button');
    await page.click('#kassa-wallet-approve');
    expect(await result(page)).toEqual({ seen: ['ready:googlePay', 'click:google_pay', 'confirm'], status: 'succeeded' });
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe('succeeded');
  } finally {
    await page.close();
  }
});

it('confirmSetup with a 3DS card, then the PM is on the customer', async () => {
  const customer = await stripe.customers.create();
  const si = await stripe.setupIntents.create({ customer: customer.id });
  const page = await open('setup', `
    const stripe = Stripe(${JSON.stringify(pk)});
    const elements = stripe.elements({ clientSecret: ${JSON.stringify(si.client_secret)} });
    elements.create('payment').mount('#mount');
    document.getElementById('go').onclick = async () => {
      const r = await stripe.confirmSetup({ elements, confirmParams: { return_url: location.origin + '/done' } });
      out(r.error ? { error: r.error.code } : {});
    };`);
  try {
    await fillCard(page, '4000002500003155');
    await page.click('#go');
    await page.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-complete').click();
    await page.waitForURL(/\/done/);
    const params = new URL(page.url()).searchParams;
    expect(params.get('setup_intent')).toBe(si.id);
    expect(params.get('redirect_status')).toBe('succeeded');
    const pms = await stripe.customers.listPaymentMethods(customer.id);
    expect(pms.data).toHaveLength(1);
  } finally {
    await page.close();
  }
});

it('handleNextAction after a server-side confirm, on a direct charge with stripeAccount', async () => {
  const acct = await stripe.accounts.create({ type: 'standard' });
  await fetch(`${emu.url}/_emulator/accounts/${acct.id}/complete_onboarding`, { method: 'POST' });
  const pi = await stripe.paymentIntents.create(
    { amount: 2000, currency: 'eur', payment_method: 'pm_card_authenticationRequired', confirm: true, use_stripe_sdk: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } },
    { stripeAccount: acct.id },
  );
  expect(pi.status).toBe('requires_action');
  const page = await open('next-action', `
    const stripe = Stripe(${JSON.stringify(pk)}, { stripeAccount: ${JSON.stringify(acct.id)} });
    document.getElementById('go').onclick = async () => {
      const before = await stripe.retrievePaymentIntent(${JSON.stringify(pi.client_secret)});
      const r = await stripe.handleNextAction({ clientSecret: ${JSON.stringify(pi.client_secret)} });
      const again = await stripe.handleNextAction({ clientSecret: ${JSON.stringify(pi.client_secret)} });
      out({ before: before.paymentIntent.status, after: r.paymentIntent && r.paymentIntent.status, again: again.error && again.error.type });
    };`);
  try {
    await page.click('#go');
    await page.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-complete').click();
    expect(await result(page)).toEqual({ before: 'requires_action', after: 'succeeded', again: 'invalid_request_error' });
    expect((await stripe.paymentIntents.retrieve(pi.id, {}, { stripeAccount: acct.id })).status).toBe('succeeded');
  } finally {
    await page.close();
  }
});

it('payment request (wallet) flow: canMakePayment, paymentmethod, confirm without actions, complete; no element → integration error', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 990, currency: 'eur' });
  const page = await open('wallet', `
    window.KassaStripeEmulator = { canMakePayment: { applePay: true, googlePay: false, link: false } };
    const stripe = Stripe(${JSON.stringify(pk)});
    const secret = ${JSON.stringify(pi.client_secret)};
    document.getElementById('go').onclick = async () => {
      const bare = await stripe.confirmPayment({ elements: stripe.elements({ clientSecret: secret }), redirect: 'if_required' }).catch((e) => e.name);
      const pr = stripe.paymentRequest({ country: 'DE', currency: 'eur', total: { label: 'Tickets', amount: 990 } });
      const can = await pr.canMakePayment();
      pr.on('paymentmethod', async (ev) => {
        const r = await stripe.confirmCardPayment(secret, { payment_method: ev.paymentMethod.id }, { handleActions: false });
        ev.complete(r.error ? 'fail' : 'success');
        out({ bare, can, status: r.paymentIntent && r.paymentIntent.status, completed: pr.completed });
      });
      pr.show();
    };`);
  try {
    await page.click('#go');
    expect(await result(page)).toEqual({ bare: 'IntegrationError', can: { applePay: true, googlePay: false, link: false }, status: 'succeeded', completed: 'success' });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
  } finally {
    await page.close();
  }
});
