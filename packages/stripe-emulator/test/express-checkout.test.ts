import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, withEmulator } from './helpers';

/**
 * The Express Checkout Element of the Stripe.js double (§8.3) in Chromium, in Stripe's
 * deferred-intent flow: the page shows the wallets the test wallet offers, `click` must be
 * resolved within a second, the buyer approves or cancels the simulated sheet, the shop's server
 * creates the PaymentIntent for its own amount, and the page confirms with redirect: 'if_required'.
 */
let emu: RunningEmulator;
let browser: Browser;
let shop: http.Server;
let shopUrl: string;

/** Per test: the shop's secret key (its own account) and what the page runs. */
interface Scenario {
  key: string;
  script: string;
}
const scenarios = new Map<string, Scenario>();
let counter = 0;

beforeAll(async () => {
  emu = await withEmulator();
  shop = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    const scenario = scenarios.get(url.searchParams.get('s') ?? '');
    if (!scenario) {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/intent') {
      // The server decides the amount (never the browser), as a shop must.
      stripeFor(emu, scenario.key)
        .paymentIntents.create({ amount: 1800, currency: 'eur', automatic_payment_methods: { enabled: true }, metadata: { order: 'ABC12' } })
        .then((pi) => {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ clientSecret: pi.client_secret, id: pi.id }));
        }, (err: Error) => {
          res.statusCode = 500;
          res.end(err.message);
        });
      return;
    }
    const pk = emu.keysFor(scenario.key).publishableKey;
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><html><head><script src="${emu.stripeJsUrl}"></script></head><body>
<div id="express"></div><pre id="result"></pre>
<script>
const seen = [];
const out = (v) => { document.getElementById('result').textContent = JSON.stringify(Object.assign({ seen }, v)); };
const stripe = Stripe(${JSON.stringify(pk)});
const elements = stripe.elements({ mode: 'payment', amount: 1800, currency: 'eur' });
const express = elements.create('expressCheckout', { business: { name: 'Kassa Test Events' } });
const createIntent = () => fetch('/intent?s=${url.searchParams.get('s')}', { method: 'POST' }).then((r) => r.json());
express.on('ready', (e) => {
  const a = e.availablePaymentMethods;
  seen.push('ready:' + (a ? Object.keys(a).filter((k) => a[k]).join(',') : 'none'));
  if (!a) out({ shown: false });
});
express.on('cancel', () => { seen.push('cancel'); out({ canceled: true }); });
${scenario.script}
express.mount('#express');
</script></body></html>`);
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
  // The emulator's lint rule forbids @kassa/* imports (tests included), so not @kassa/testing's launchChromium: same flags.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => shop.close(() => resolve()));
  await emu.close();
});

afterEach(() => expect(emu.errors()).toEqual([]));

/** The usual confirm handler: submit, server-side intent, confirm if_required, paymentFailed on any error. */
const PAY = `
express.on('click', (e) => { seen.push('click:' + e.expressPaymentType); e.resolve({ lineItems: [{ name: 'Ticket', amount: 1800 }] }); });
express.on('confirm', async (e) => {
  seen.push('confirm:' + e.expressPaymentType + ':' + e.billingDetails.email);
  const submitted = await elements.submit();
  if (submitted.error) { e.paymentFailed({ reason: 'fail' }); return out({ submitError: submitted.error.code }); }
  const { clientSecret, id } = await createIntent();
  const r = await stripe.confirmPayment({ elements, clientSecret, confirmParams: { return_url: location.href }, redirect: 'if_required' });
  if (r.error) { e.paymentFailed({ reason: 'fail', message: r.error.message }); return out({ id, error: r.error.code, decline: r.error.decline_code }); }
  out({ id, status: r.paymentIntent.status });
});`;

async function open(wallet: string, script: string): Promise<{ page: Page; stripe: Stripe; key: string }> {
  const key = freshKey();
  const name = `s${++counter}`;
  scenarios.set(name, { key, script });
  const res = await raw(emu, 'POST', '/_emulator/wallet_config', `key=${key}&${wallet}`);
  expect(res.status).toBe(200);
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${shopUrl}/page?s=${name}`);
  return { page, stripe: stripeFor(emu, key), key };
}

async function result(page: Page): Promise<Record<string, unknown>> {
  await page.waitForFunction(() => document.getElementById('result')?.textContent !== '');
  const text = (await page.textContent('#result')) as string;
  await page.evaluate(() => ((document.getElementById('result') as HTMLElement).textContent = ''));
  return JSON.parse(text);
}

it('shows the available wallets; approving the sheet pays the server-created intent with a card whose wallet.type is set', async () => {
  const { page, stripe } = await open('available[]=apple_pay&available[]=google_pay', PAY);
  try {
    await page.waitForSelector('#express button[data-wallet="google_pay"]');
    expect(await page.$$eval('#express button', (bs) => bs.map((b) => b.getAttribute('data-wallet')))).toEqual(['apple_pay', 'google_pay']);
    await page.click('#express button[data-wallet="apple_pay"]');
    await page.waitForSelector('#kassa-wallet-sheet[data-wallet="apple_pay"]');
    await page.waitForFunction(() => document.getElementById('kassa-wallet-amount')?.textContent !== '');
    expect(await page.textContent('#kassa-wallet-amount')).toBe('18.00 EUR');
    expect(await page.textContent('#kassa-wallet-merchant')).toBe('Kassa Test Events');
    expect(await page.textContent('#kassa-wallet-line-items')).toContain('Ticket: 18.00 EUR');
    await page.click('#kassa-wallet-approve');
    const r = await result(page);
    expect(r).toMatchObject({ seen: ['ready:applePay,googlePay', 'click:apple_pay', 'confirm:apple_pay:wallet@example.com'], status: 'succeeded' });
    expect(await page.$('#kassa-wallet-sheet')).toBeNull();
    expect(await page.getAttribute('#express .kassa-express-checkout', 'data-last-sheet')).toBe('succeeded');
    const pi = await stripe.paymentIntents.retrieve(r.id as string, { expand: ['payment_method'] });
    expect(pi).toMatchObject({ status: 'succeeded', amount: 1800, metadata: { order: 'ABC12' } });
    expect((pi.payment_method as Stripe.PaymentMethod).card?.wallet?.type).toBe('apple_pay');
  } finally {
    await page.close();
  }
});

it('shows nothing when no wallet is available (ready without availablePaymentMethods)', async () => {
  const { page } = await open('available[]=none', PAY);
  try {
    expect(await result(page)).toEqual({ seen: ['ready:none'], shown: false });
    expect(await page.$$('#express button')).toHaveLength(0);
  } finally {
    await page.close();
  }
});

it('cancelling the sheet emits cancel and charges nothing', async () => {
  const { page, stripe } = await open('available[]=google_pay', PAY);
  try {
    await page.click('#kassa-express-checkout-button');
    await page.click('#kassa-wallet-cancel');
    expect(await result(page)).toEqual({ seen: ['ready:googlePay', 'click:google_pay', 'cancel'], canceled: true });
    expect(await page.$('#kassa-wallet-sheet')).toBeNull();
    expect((await stripe.paymentIntents.list()).data).toHaveLength(0);
  } finally {
    await page.close();
  }
});

it('a click resolved after one second is an error: no sheet, cancel, and the late resolve() throws', async () => {
  const { page } = await open(
    'available[]=google_pay',
    `express.on('click', (e) => {
      seen.push('click');
      setTimeout(() => {
        try { e.resolve(); seen.push('resolved'); } catch (err) { seen.push('threw:' + err.name); }
        out({ sheet: !!document.getElementById('kassa-wallet-sheet'), errors: Stripe.kassaErrors.length });
      }, 1300);
    });`,
  );
  try {
    await page.click('#kassa-express-checkout-button');
    // cancel comes at the deadline, the page's late resolve() 300 ms later.
    await page.waitForFunction(() => document.getElementById('result')?.textContent?.includes('threw'));
    expect(await result(page)).toEqual({ seen: ['ready:googlePay', 'click', 'cancel', 'threw:IntegrationError'], sheet: false, errors: 2 });
    const errors = await page.evaluate(() => (window as unknown as { Stripe: { kassaErrors: string[] } }).Stripe.kassaErrors);
    expect(errors[0]).toMatch(/not resolved within 1 second/);
  } finally {
    await page.close();
  }
});

it('a declined wallet card: confirmPayment resolves an error, the page calls paymentFailed, the sheet shows it and closes', async () => {
  const { page, stripe } = await open('available[]=google_pay&card=pm_card_chargeDeclined', PAY);
  try {
    await page.click('#kassa-express-checkout-button');
    await page.click('#kassa-wallet-approve');
    const r = await result(page);
    expect(r).toMatchObject({ error: 'card_declined', decline: 'generic_decline' });
    await page.waitForSelector('#kassa-wallet-failed');
    expect(await page.getAttribute('#kassa-wallet-failed', 'data-reason')).toBe('fail');
    expect(await page.$('#kassa-wallet-sheet')).toBeNull();
    const pi = await stripe.paymentIntents.retrieve(r.id as string);
    expect(pi).toMatchObject({ status: 'requires_payment_method', last_payment_error: { decline_code: 'generic_decline' } });
  } finally {
    await page.close();
  }
});

it('a wallet card that needs 3-D Secure: the sheet closes, the challenge runs outside it, then the intent succeeds', async () => {
  const { page, stripe } = await open('available[]=google_pay&card=4000002760003184', PAY);
  try {
    await page.click('#kassa-express-checkout-button');
    await page.click('#kassa-wallet-approve');
    const frame = await (await page.waitForSelector('iframe#kassa-3ds-frame')).contentFrame();
    expect(await page.$('#kassa-wallet-sheet')).toBeNull();
    await frame?.click('#kassa-3ds-complete');
    const r = await result(page);
    expect(r).toMatchObject({ status: 'succeeded' });
    expect((await stripe.paymentIntents.retrieve(r.id as string)).status).toBe('succeeded');
  } finally {
    await page.close();
  }
});

it('a server intent for another amount than the page showed is an integration error (nothing is confirmed)', async () => {
  const { page, stripe } = await open(
    'available[]=google_pay',
    `express.on('click', (e) => e.resolve());
    express.on('confirm', async (e) => {
      await elements.submit();
      const { clientSecret, id } = await createIntent();
      elements.update({ amount: 1700 });
      try {
        await stripe.confirmPayment({ elements, clientSecret, confirmParams: { return_url: location.href }, redirect: 'if_required' });
        out({ id, confirmed: true });
      } catch (err) {
        e.paymentFailed({ reason: 'fail' });
        out({ id, threw: err.name, message: err.message });
      }
    });`,
  );
  try {
    await page.click('#kassa-express-checkout-button');
    await page.click('#kassa-wallet-approve');
    const r = await result(page);
    expect(r).toMatchObject({ threw: 'IntegrationError', message: expect.stringMatching(/1800 eur\) does not match .* \(1700 eur\)/) });
    expect((await stripe.paymentIntents.retrieve(r.id as string)).status).toBe('requires_payment_method');
  } finally {
    await page.close();
  }
});
