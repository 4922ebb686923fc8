import { globalSettings } from '@kassa/core/host';
import { createShop, launchChromium } from '@kassa/testing';
import type { Browser, BrowserContext } from 'playwright-core';
import path from 'node:path';
import { STRIPE_NAMESPACE } from '../../src';
import { createServerHarness, type ServerHarness } from '../support/server-harness';
import { paymentRow } from '../support/stripe-harness';

const images = path.resolve(__dirname, '../../../../docs/images');

/**
 * The whole Standard path in Chromium through the real server: the organizer connects its account
 * with "Connect with Stripe" (the emulator's OAuth page), a buyer pays with 4242 on the pay page
 * (a direct charge: Stripe.js acts on the connected account), and the organizer sees the payment
 * with the platform's fee on the order page.
 */
describe('Stripe Connect in the browser: Standard via OAuth, a direct charge, the fee', () => {
  let h: ServerHarness;
  let browser: Browser;
  let organizer: BrowserContext;
  beforeAll(async () => {
    h = await createServerHarness({ listen: true });
    const keys = h.emulator.keysFor(h.instanceKey);
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, {
      platformSecretKey: h.instanceKey, platformPublishableKey: keys.publishableKey, connectClientId: keys.clientId,
      connectChargeModel: 'direct', connectFees: { EUR: { percent: '2.5', fixed: 30, min: 0, max: null } },
    });
    browser = await launchChromium();
    organizer = await browser.newContext();
    const { cookie } = await h.signIn(h.shop.organizer.id);
    await organizer.addCookies(cookie.split('; ').map((c) => {
      const [name, ...v] = c.split('=');
      return { name: name as string, value: v.join('='), url: h.baseUrl };
    }));
  });
  afterAll(async () => {
    await browser?.close();
    await h.destroy();
  });

  it('connects, takes a 4242 payment on the connected account, and shows the fee to the organizer', async () => {
    const tab = await organizer.newPage();
    tab.setDefaultTimeout(20_000);
    await tab.goto(`${h.baseUrl}/plugins/stripe/control/connect`);
    await tab.click('#stripe-connect-oauth');
    await tab.click('#kassa-oauth-authorize');
    await tab.waitForSelector('#stripe-connect-notice');
    expect(await tab.textContent('#stripe-connect-notice')).toContain('connected');
    const account = String(await tab.textContent('#stripe-connect-account')).trim();
    expect(account).toMatch(/^acct_/);
    await tab.screenshot({ path: path.join(images, 'stripe-connect-connected.png') });

    // A buyer places an order and pays on the pay page.
    const placed = await h.deps.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'buyer@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    const { outcome } = await h.deps.core.payments.executePayment(placed.payment!.id, {});
    if (outcome.kind !== 'requires_action') throw new Error(`expected requires_action, got ${outcome.kind}`);
    const buyer = await browser.newPage();
    buyer.setDefaultTimeout(20_000);
    await buyer.goto(outcome.redirectUrl);
    await buyer.waitForSelector('#kassa-card-number');
    await buyer.waitForSelector('#stripe-pay-button:not([disabled])');
    await buyer.fill('#kassa-card-number', '4242 4242 4242 4242');
    await buyer.fill('#kassa-card-expiry', '12/34');
    await buyer.fill('#kassa-card-cvc', '123');
    await buyer.click('#stripe-pay-button');
    await buyer.waitForURL(/\/order\//);
    const paid = await paymentRow({ db: h.db } as never, placed.payment!.id);
    expect(paid.state).toBe('confirmed');
    // 2.5 % of 42.00 + 0.30
    expect(paid.info.connect).toMatchObject({ model: 'direct', account, applicationFee: { amount: 135, currency: 'EUR' } });

    await tab.goto(`${h.baseUrl}/control/orders/${placed.order.id}`);
    expect(await tab.textContent('.stripe-platform-fee')).toContain('1.35');
    expect(await tab.textContent('.stripe-connect')).toContain(account);
    await tab.locator('.stripe-control').screenshot({ path: path.join(images, 'stripe-connect-order-fee.png') });
  });

  it('Express onboarding: a requirement left out keeps payments off and is shown; completing it enables them', async () => {
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { connectChargeModel: 'destination', connectAccountType: 'express' });
    const shop = await createShop(h.db.dataSource, { price: 1000 });
    const ctx = await browser.newContext();
    const { cookie } = await h.signIn(shop.organizer.id);
    await ctx.addCookies(cookie.split('; ').map((c) => {
      const [name, ...v] = c.split('=');
      return { name: name as string, value: v.join('='), url: h.baseUrl };
    }));
    const tab = await ctx.newPage();
    tab.setDefaultTimeout(20_000);
    await tab.goto(`${h.baseUrl}/plugins/stripe/control/connect`);
    await tab.click('#stripe-connect-onboard');
    await tab.click('#stripe-connect-continue');
    // Stripe's hosted onboarding (the emulator's): everything but the bank account.
    await tab.uncheck('input[data-requirement="external_account"]');
    await tab.click('#kassa-onboarding-complete');
    await tab.waitForSelector('#stripe-connect-due');
    expect(await tab.textContent('#stripe-connect-charges')).toContain('not enabled yet');
    expect(await tab.textContent('#stripe-connect-due')).toContain('external_account');
    await tab.screenshot({ path: path.join(images, 'stripe-connect-requirements.png') });
    // The dashboard says so too, at the top, linking to the Connect page.
    await tab.goto(`${h.baseUrl}/control`);
    await tab.waitForSelector('#plugin-notices');
    expect(await tab.textContent('#plugin-notices')).toContain('external_account');
    await tab.screenshot({ path: path.join(images, 'stripe-connect-dashboard-notice.png'), clip: { x: 0, y: 0, width: 1280, height: 420 } });
    await tab.click('#plugin-notices a');
    await tab.waitForSelector('#stripe-connect-due');
    await tab.click('#stripe-connect-continue');
    await tab.click('#kassa-onboarding-complete');
    await tab.waitForSelector('#stripe-connect-notice');
    expect(await tab.textContent('#stripe-connect-notice')).toContain('Onboarding is finished');
    expect(await tab.textContent('#stripe-connect-charges')).toContain('enabled');
    await ctx.close();
  });
});
