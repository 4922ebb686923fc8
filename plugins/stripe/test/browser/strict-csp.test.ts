import { launchChromium } from '@kassa/testing';
import { randomBytes } from 'node:crypto';
import { Eta } from 'eta';
import type { Browser } from 'playwright-core';
import { stripeViewsDir } from '../../src';
import { createStripeHarness, paymentRow, placeStripeOrder, type StripeHarness } from '../support/stripe-harness';

/**
 * The pay page under a CSP as strict as the server's (no 'unsafe-inline' anywhere; scripts by
 * nonce; only the emulator's origin added for Stripe.js, its frames and API): the Stripe.js double
 * must show its card form and its 3DS challenge as a full-viewport overlay without a single CSP
 * violation, since a blocked style attribute leaves the "modal" as an unstyled box in the page flow.
 */
const eta = new Eta({ views: stripeViewsDir, autoEscape: true });

declare global {
  interface Window { cspViolations: string[] }
}

describe('Stripe.js double under a strict CSP (browser)', () => {
  let h: StripeHarness;
  let browser: Browser;
  const strictPage = (view: { partial: string; data: Record<string, unknown> }) => {
    const nonce = randomBytes(16).toString('base64');
    const emulator = new URL(String(view.data.stripeJsUrl ?? 'http://invalid')).origin;
    const body = view.partial === '__order'
      ? `<h1>Order ${String(view.data.code)}</h1><p id="payment-states">${(view.data.states as string[]).join(',')}</p>`
      : eta.render(view.partial.replace(/^@?stripe\//, ''), { ...view.data, cspNonce: nonce });
    const csp = [
      "default-src 'self'", "base-uri 'self'", "object-src 'none'", "img-src 'self' data:", "style-src 'self'", "font-src 'self'",
      `script-src 'self' 'nonce-${nonce}' ${emulator}`, `frame-src 'self' ${emulator}`, `connect-src 'self' ${emulator}`,
    ].join('; ');
    return { html: `<!doctype html><html><head><meta charset="utf-8"><title>Kassa</title></head><body>${body}</body></html>`, headers: { 'content-security-policy': csp } };
  };

  beforeAll(async () => {
    h = await createStripeHarness({ price: 1900, renderPage: strictPage });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h.destroy();
  });

  it('shows the 3DS challenge as a fixed overlay covering the viewport, with no CSP violation, and the payment completes', async () => {
    const { payment, payUrl } = await placeStripeOrder(h);
    const tab = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    tab.setDefaultTimeout(20_000);
    // Before any page script: collect every violation the page reports.
    await tab.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => { window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`); });
    });
    const response = await tab.goto(payUrl);
    expect(response?.headers()['content-security-policy']).toContain("style-src 'self'");
    await tab.waitForSelector('#stripe-pay-button:not([disabled])');
    // The card form renders styled (labels as blocks), not only present.
    expect(await tab.$eval('#kassa-card-number', (el) => getComputedStyle(el.parentElement as Element).display)).toBe('block');
    await tab.fill('#kassa-card-number', '4000 0000 0000 3220');
    await tab.fill('#kassa-card-expiry', '12/34');
    await tab.fill('#kassa-card-cvc', '123');
    await tab.click('#stripe-pay-button');

    const modal = await tab.waitForSelector('#kassa-3ds-modal');
    const overlay = await modal.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return {
        position: getComputedStyle(el).position, top: r.top, left: r.left, width: r.width, height: r.height,
        viewport: { width: window.innerWidth, height: window.innerHeight },
        // What a click in the page's corner would hit: the overlay, not the form under it.
        onTop: document.elementFromPoint(5, 5) === el && document.elementFromPoint(window.innerWidth - 5, window.innerHeight - 5) === el,
      };
    });
    expect(overlay).toEqual({ position: 'fixed', top: 0, left: 0, width: overlay.viewport.width, height: overlay.viewport.height, viewport: overlay.viewport, onTop: true });
    expect((await tab.$eval('#kassa-3ds-frame', (el) => el.getBoundingClientRect().width))).toBe(420);
    // Card form, overlay and challenge frame, all without a blocked inline style (or anything else).
    await tab.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-complete').waitFor();
    expect(await tab.evaluate(() => window.cspViolations)).toEqual([]);

    await tab.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-complete').click();
    expect(await (await tab.waitForSelector('#payment-states')).textContent()).toBe('confirmed');
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
    await tab.close();
  });
});
