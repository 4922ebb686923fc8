import { createServer } from 'node:net';
import { globalSettings, type OrderPayment } from '@kassa/core/host';
import { chromiumArgs } from '@kassa/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { registerAccount } from '../../src';
import { syncWalletDomains } from '../../src/wallets/wallet-domain-sync';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/**
 * The express wallet on the pay page, in Chromium through the real server (sessions, the strict
 * nonce CSP, plugin routes, the order page), with the emulator's Stripe.js double and its test
 * wallet sheet. The shop answers on a real hostname (mapped to loopback), which Kassa registered
 * as a payment method domain, since the button shows only where a wallet is active.
 */
const HOST = 'wallet.kassa-test.example';

declare global {
  interface Window { cspViolations: string[] }
}

let h: ServerHarness;
let browser: Browser;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  h = await createServerHarness({ baseUrl: `http://${HOST}:${port}` });
  await h.app.listen({ host: '127.0.0.1', port });
  const { account } = await registerAccount(h.rt, globalSettings);
  const [registered] = await syncWalletDomains(h.rt, { accountIds: [account.accountId] });
  expect(registered).toMatchObject({ domain: HOST, pmdId: expect.stringMatching(/^pmd_/), wallets: { google_pay: { status: 'active' } } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true,
    args: [...chromiumArgs, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
  });
});
afterAll(async () => {
  await browser?.close();
  await h?.destroy();
});

/** What the test wallet of the instance's account offers this time (emulator control). */
async function wallet(config: string): Promise<void> {
  const res = await fetch(`${h.emulator.url}/_emulator/wallet_config`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${h.instanceKey}&${config}`,
  });
  expect(res.status).toBe(200);
}

/** Places an order paid with Stripe (as the checkout does) and opens its pay page. */
async function openPayPage(): Promise<{ tab: Page; payment: OrderPayment; orderId: string }> {
  const placed = await h.deps.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'buyer@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
  const payment = placed.payment as OrderPayment;
  const { outcome } = await h.deps.core.payments.executePayment(payment.id, {});
  if (outcome.kind !== 'requires_action') throw new Error(`expected requires_action, got ${outcome.kind}`);
  expect(outcome.redirectUrl.startsWith(`http://${HOST}:`)).toBe(true);
  const tab = await browser.newPage();
  tab.setDefaultTimeout(20_000);
  await tab.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => { window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`); });
  });
  const res = await tab.goto(outcome.redirectUrl);
  expect(res?.headers()['content-security-policy']).not.toContain('unsafe-inline');
  await tab.waitForSelector('#stripe-pay-button:not([disabled])');
  return { tab, payment, orderId: placed.order.id };
}

const paymentState = async (id: string): Promise<string> => (await h.db.dataSource.query('SELECT state FROM order_payment WHERE id = $1', [id]))[0].state;
const order = async (id: string): Promise<{ status: string; email: string }> => (await h.db.dataSource.query('SELECT status, email FROM kassa_order WHERE id = $1', [id]))[0];
const noViolations = async (tab: Page) => expect(await tab.evaluate(() => window.cspViolations)).toEqual([]);

it('shows the wallet at the top of the pay page; paying in the sheet confirms the payment, the order keeps its own email', async () => {
  await wallet('available[]=google_pay&card=4242424242424242&payer_email=someone-else@example.com');
  const { tab, payment, orderId } = await openPayPage();
  await tab.waitForSelector('#stripe-express:not([hidden]) #kassa-express-checkout-button');
  expect(await tab.getAttribute('#stripe-express', 'data-ready')).toBe('googlePay');
  // Above the card form.
  expect(await tab.evaluate(() => {
    const express = document.getElementById('stripe-express') as HTMLElement;
    return !!(express.compareDocumentPosition(document.getElementById('stripe-payment-form') as HTMLElement) & Node.DOCUMENT_POSITION_FOLLOWING);
  })).toBe(true);
  await tab.click('#kassa-express-checkout-button');
  await tab.waitForSelector('#kassa-wallet-sheet');
  // The server's amount and the event's name in the sheet (EUR 42.00 as Stripe's 4200).
  await tab.waitForSelector('#kassa-wallet-amount[data-amount="4200"]');
  expect(await tab.getAttribute('#kassa-wallet-amount', 'data-currency')).toBe('eur');
  expect(await tab.textContent('#kassa-wallet-merchant')).toBe(h.shop.event.name);
  await noViolations(tab);
  await tab.click('#kassa-wallet-approve');
  await tab.waitForURL(/\/order\//);
  expect(await paymentState(payment.id)).toBe('confirmed');
  expect(await order(orderId)).toEqual({ status: 'paid', email: 'buyer@example.org' });
  const [info] = await h.db.dataSource.query('SELECT info FROM order_payment WHERE id = $1', [payment.id]);
  expect(info.info).toMatchObject({ intentId: expect.stringMatching(/^pi_/) });
  await tab.close();
});

it('shows no wallet (and no error) when the browser has none; the card form works as before', async () => {
  await wallet('available[]=none');
  const { tab, payment } = await openPayPage();
  // The element reported no wallet: the box stays hidden, with no button and no error.
  await tab.waitForSelector('#stripe-express[data-ready="none"]', { state: 'attached' });
  expect(await tab.$eval('#stripe-express', (el) => (el as HTMLElement).hidden)).toBe(true);
  expect(await tab.$('#kassa-express-checkout-button')).toBeNull();
  await tab.fill('#kassa-card-number', '4242 4242 4242 4242');
  await tab.fill('#kassa-card-expiry', '12/34');
  await tab.fill('#kassa-card-cvc', '123');
  await tab.click('#stripe-pay-button');
  await tab.waitForURL(/\/order\//);
  expect(await paymentState(payment.id)).toBe('confirmed');
  await noViolations(tab);
  await tab.close();
});

it('a wallet card that needs 3-D Secure: the challenge runs after the sheet closed, then the payment is confirmed', async () => {
  await wallet('available[]=google_pay&card=4000002760003184');
  const { tab, payment } = await openPayPage();
  await tab.click('#kassa-express-checkout-button');
  await tab.click('#kassa-wallet-approve');
  const frame = await (await tab.waitForSelector('iframe#kassa-3ds-frame')).contentFrame();
  expect(await tab.$('#kassa-wallet-sheet')).toBeNull();
  await frame?.click('#kassa-3ds-complete');
  await tab.waitForURL(/\/order\//);
  expect(await paymentState(payment.id)).toBe('confirmed');
  await tab.close();
});

it('cancelled in the sheet: nothing is charged, the payment stays open and the card form is still there', async () => {
  await wallet('available[]=google_pay&card=4242424242424242');
  const { tab, payment, orderId } = await openPayPage();
  await tab.click('#kassa-express-checkout-button');
  await tab.click('#kassa-wallet-cancel');
  await tab.waitForSelector('#kassa-wallet-sheet', { state: 'detached' });
  expect(await tab.$eval('#stripe-express-error', (el) => (el as HTMLElement).hidden)).toBe(true);
  expect(await paymentState(payment.id)).toBe('created');
  expect((await order(orderId)).status).toBe('pending');
  const [{ info }] = await h.db.dataSource.query('SELECT info FROM order_payment WHERE id = $1', [payment.id]);
  expect((await fetch(`${h.emulator.url}/v1/payment_intents/${info.intentId}`, { headers: { authorization: `Bearer ${h.instanceKey}` } }).then((r) => r.json())).status).toBe('requires_payment_method');
  expect(await tab.isEnabled('#stripe-pay-button')).toBe(true);
  await tab.close();
});

it('declined: paymentFailed tells the sheet why, the page shows the decline, and the buyer can still pay by card', async () => {
  await wallet('available[]=google_pay&card=pm_card_chargeDeclined');
  const { tab, payment, orderId } = await openPayPage();
  await tab.click('#kassa-express-checkout-button');
  await tab.click('#kassa-wallet-approve');
  await tab.waitForSelector('#kassa-wallet-failed');
  expect(await tab.getAttribute('#kassa-wallet-failed', 'data-reason')).toBe('fail');
  await tab.waitForSelector('#stripe-express-error:not([hidden])');
  expect(await tab.textContent('#stripe-express-error')).toMatch(/declined/i);
  expect(await paymentState(payment.id)).toBe('created');
  expect((await order(orderId)).status).toBe('pending');
  await tab.fill('#kassa-card-number', '4242 4242 4242 4242');
  await tab.fill('#kassa-card-expiry', '12/34');
  await tab.fill('#kassa-card-cvc', '123');
  await tab.click('#stripe-pay-button');
  await tab.waitForURL(/\/order\//);
  expect(await paymentState(payment.id)).toBe('confirmed');
  expect((await order(orderId)).status).toBe('paid');
  await noViolations(tab);
  await tab.close();
});

it('paying by card hides the wallet button; a declined card brings it back', async () => {
  await wallet('available[]=google_pay&card=4242424242424242');
  const { tab, payment } = await openPayPage();
  await tab.waitForSelector('#stripe-express:not([hidden]) #kassa-express-checkout-button');
  await tab.fill('#kassa-card-number', '4000 0000 0000 0002');
  await tab.fill('#kassa-card-expiry', '12/34');
  await tab.fill('#kassa-card-cvc', '123');
  await tab.click('#stripe-pay-button');
  await tab.waitForSelector('#stripe-payment-error:not([hidden])');
  await tab.waitForSelector('#stripe-express:not([hidden])');
  await tab.fill('#kassa-card-number', '4000 0000 0000 3220');
  await tab.click('#stripe-pay-button');
  await tab.waitForSelector('iframe#kassa-3ds-frame');
  expect(await tab.$eval('#stripe-express', (el) => (el as HTMLElement).hidden)).toBe(true);
  await (await (await tab.waitForSelector('iframe#kassa-3ds-frame')).contentFrame())?.click('#kassa-3ds-complete');
  await tab.waitForURL(/\/order\//);
  expect(await paymentState(payment.id)).toBe('confirmed');
  await tab.close();
});
