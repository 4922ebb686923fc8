import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, stripeFor, withEmulator } from './helpers';

/**
 * A merchant page on its own loopback origin loads the Stripe.js double from the emulator,
 * mounts the Payment Element and confirms; the test then checks the PaymentIntent via the API.
 */
let emu: RunningEmulator;
let browser: Browser;
let shop: http.Server;
let shopUrl: string;
let stripe: Stripe;
let pk: string;

function checkoutPage(pkKey: string, clientSecret: string, mode: 'confirmPayment' | 'confirmCardPayment'): string {
  return `<!doctype html><html><head><script src="${emu.stripeJsUrl}"></script></head><body>
<div id="payment-element"></div><button id="pay">Pay</button><pre id="result"></pre><pre id="events"></pre>
<script>
  const stripe = Stripe(${JSON.stringify(pkKey)});
  const clientSecret = ${JSON.stringify(clientSecret)};
  const elements = stripe.elements({ clientSecret });
  const element = elements.create(${mode === 'confirmPayment' ? "'payment'" : "'card'"});
  element.on('ready', () => document.getElementById('events').textContent += 'ready;');
  element.on('change', (e) => { if (e.complete) document.getElementById('events').textContent += 'complete:' + e.brand + ';'; });
  element.mount('#payment-element');
  document.getElementById('pay').addEventListener('click', async () => {
    const result = ${
      mode === 'confirmPayment'
        ? "await stripe.confirmPayment({ elements, confirmParams: { return_url: location.origin + '/return?order=42' } })"
        : "await stripe.confirmCardPayment(clientSecret, { payment_method: { card: element } })"
    };
    document.getElementById('result').textContent = JSON.stringify(result.error ? { error: result.error.code, type: result.error.type } : { status: result.paymentIntent.status });
  });
</script></body></html>`;
}

beforeAll(async () => {
  emu = await withEmulator();
  const key = freshKey();
  stripe = stripeFor(emu, key);
  pk = emu.keysFor(key).publishableKey;
  shop = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    res.setHeader('Content-Type', 'text/html');
    if (url.pathname === '/checkout') {
      res.end(checkoutPage(pk, url.searchParams.get('cs') ?? '', (url.searchParams.get('mode') as 'confirmPayment') ?? 'confirmPayment'));
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

async function fillCard(page: Page, number: string): Promise<void> {
  await page.fill('#kassa-card-number', number);
  await page.fill('#kassa-card-expiry', '12 / 34');
  await page.fill('#kassa-card-cvc', '123');
  await page.fill('#kassa-card-postal', '10115');
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

it('pays with 4242 4242 4242 4242 and returns with the three query params', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'eur' });
  const page = await newPage();
  try {
    await page.goto(`${shopUrl}/checkout?cs=${pi.client_secret}`);
    await page.waitForFunction(() => document.getElementById('events')?.textContent?.includes('ready'));
    await fillCard(page, '4242 4242 4242 4242');
    await page.waitForFunction(() => document.getElementById('events')?.textContent?.includes('complete:visa'));
    await page.click('#pay');
    await page.waitForURL(/\/return/);
    const params = new URL(page.url()).searchParams;
    expect(params.get('order')).toBe('42');
    expect(params.get('payment_intent')).toBe(pi.id);
    expect(params.get('payment_intent_client_secret')).toBe(pi.client_secret);
    expect(params.get('redirect_status')).toBe('succeeded');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe('succeeded');
    expect((await stripe.paymentMethods.retrieve(after.payment_method as string)).card?.last4).toBe('4242');
  } finally {
    await page.close();
  }
});

it('completes a 3DS challenge in the emulator modal and then succeeds', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 4200, currency: 'eur' });
  const page = await newPage();
  try {
    await page.goto(`${shopUrl}/checkout?cs=${pi.client_secret}`);
    await fillCard(page, '4000 0027 6000 3184');
    await page.click('#pay');
    const frame = page.frameLocator('#kassa-3ds-frame');
    await frame.locator('#kassa-3ds-complete').click();
    await page.waitForURL(/\/return/);
    expect(new URL(page.url()).searchParams.get('redirect_status')).toBe('succeeded');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe('succeeded');
    const types = (await stripe.events.list({ limit: 100 })).data.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['payment_intent.requires_action', 'payment_intent.succeeded']));
  } finally {
    await page.close();
  }
});

it('a declined card resolves with a card_error and leaves the PI retryable', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'eur' });
  const page = await newPage();
  try {
    await page.goto(`${shopUrl}/checkout?cs=${pi.client_secret}&mode=confirmCardPayment`);
    await fillCard(page, '4000000000000002');
    await page.click('#pay');
    await page.waitForFunction(() => document.getElementById('result')?.textContent !== '');
    expect(JSON.parse((await page.textContent('#result')) as string)).toEqual({ error: 'card_declined', type: 'card_error' });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_payment_method');
  } finally {
    await page.close();
  }
});

it('failing the 3DS challenge resolves with payment_intent_authentication_failure', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'eur', capture_method: 'manual' });
  const page = await newPage();
  try {
    await page.goto(`${shopUrl}/checkout?cs=${pi.client_secret}&mode=confirmCardPayment`);
    await fillCard(page, '4000000000003220');
    await page.click('#pay');
    await page.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-fail').click();
    await page.waitForFunction(() => document.getElementById('result')?.textContent !== '');
    expect(JSON.parse((await page.textContent('#result')) as string)).toMatchObject({ error: 'payment_intent_authentication_failure' });
    expect(await page.locator('#kassa-3ds-modal').count()).toBe(0);
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.last_payment_error?.code).toBe('payment_intent_authentication_failure');
  } finally {
    await page.close();
  }
});
