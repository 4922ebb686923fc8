import { launchChromium } from '@kassa/testing';
import { Eta } from 'eta';
import type { Browser, Page } from 'playwright-core';
import { stripeViewsDir } from '../../src';
import { createStripeHarness, paymentRow, placeStripeOrder, type StripeHarness } from '../support/stripe-harness';

/**
 * A buyer in Chromium on the plugin's pay page: the real Eta partial, the emulator's Stripe.js
 * double (Payment Element, 3DS modal), our intent endpoint and return route, the real database.
 */
const eta = new Eta({ views: stripeViewsDir, autoEscape: true });
const page = (view: { partial: string; data: Record<string, unknown> }): string => {
  const body = view.partial === '__order'
    ? `<h1>Order ${String(view.data.code)}</h1><p id="payment-states">${(view.data.states as string[]).join(',')}</p>`
    : eta.render(view.partial.replace(/^@?stripe\//, ''), view.data);
  return `<!doctype html><html><head><meta charset="utf-8"><title>Kassa</title></head><body>${body}</body></html>`;
};

describe('buyer pays on the Stripe pay page (browser)', () => {
  let h: StripeHarness;
  let browser: Browser;
  beforeAll(async () => {
    h = await createStripeHarness({ price: 1900, renderPage: page });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h.destroy();
  });

  async function openPayPage(): Promise<{ tab: Page; paymentId: string }> {
    const { payment, payUrl } = await placeStripeOrder(h);
    const tab = await browser.newPage();
    tab.setDefaultTimeout(20_000);
    await tab.goto(payUrl);
    await tab.waitForSelector('#kassa-card-number');
    await tab.waitForSelector('#stripe-pay-button:not([disabled])');
    return { tab, paymentId: payment.id };
  }
  async function fillCard(tab: Page, number: string): Promise<void> {
    await tab.fill('#kassa-card-number', number);
    await tab.fill('#kassa-card-expiry', '12/34');
    await tab.fill('#kassa-card-cvc', '123');
  }
  const states = async (tab: Page) => (await tab.waitForSelector('#payment-states')).textContent();

  it('pays with 4242 4242 4242 4242 and lands on the order page, paid', async () => {
    const { tab, paymentId } = await openPayPage();
    await fillCard(tab, '4242 4242 4242 4242');
    await tab.click('#stripe-pay-button');
    expect(await states(tab)).toBe('confirmed');
    expect((await paymentRow(h, paymentId)).info).toMatchObject({ card: { brand: 'visa', last4: '4242' } });
    await tab.close();
  });

  it('completes a 3DS challenge, then the payment is confirmed', async () => {
    const { tab, paymentId } = await openPayPage();
    await fillCard(tab, '4000 0000 0000 3220');
    await tab.click('#stripe-pay-button');
    await tab.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-complete').click();
    expect(await states(tab)).toBe('confirmed');
    expect((await paymentRow(h, paymentId)).info.threeDSecure).toBeTruthy();
    await tab.close();
  });

  it('a declined card shows the error on the page; a retry with another card succeeds', async () => {
    const { tab, paymentId } = await openPayPage();
    await fillCard(tab, '4000 0000 0000 0002');
    await tab.click('#stripe-pay-button');
    await tab.waitForSelector('#stripe-payment-error:not([hidden])');
    expect(await tab.textContent('#stripe-payment-error')).toMatch(/declined/i);
    expect((await paymentRow(h, paymentId)).state).toBe('created');
    await fillCard(tab, '4242 4242 4242 4242');
    await tab.click('#stripe-pay-button');
    expect(await states(tab)).toBe('confirmed');
    await tab.close();
  });
});
