/**
 * The screenshots of the Connect payouts pages for docs/stripe-connect.md
 * (docs/images/stripe-connect-payouts.png, docs/images/stripe-connect-payout.png):
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx plugins/stripe/test/support/screenshot-connect-payouts.ts
 *
 * The real server with the emulator as Stripe: an organizer's Express account with Kassa orders paid
 * by destination charges, a refund, a paid automatic payout and a failed one.
 */
import path from 'node:path';
import { globalSettings } from '@kassa/core/host';
import { chromiumArgs } from '@kassa/testing';
import { chromium } from 'playwright-core';
import { STRIPE_NAMESPACE, createConnectWebhookEndpoint, createStripeClient, saveConnection } from '../../src';
import { runEventJob } from './stripe-harness';
import { createServerHarness } from './server-harness';

async function main(): Promise<void> {
  const h = await createServerHarness({ listen: true, emulator: { delays: { payoutPaidMs: 3_600_000 } } });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: [...chromiumArgs] });
  try {
    const keys = h.emulator.keysFor(h.instanceKey);
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { platformSecretKey: h.instanceKey, platformPublishableKey: keys.publishableKey });
    await createConnectWebhookEndpoint(h.rt);
    const platform = createStripeClient({ secretKey: h.instanceKey, apiBase: h.emulator.url, maxNetworkRetries: 0 });
    const control = (p: string, body: Record<string, string> = {}) => fetch(`${h.emulator.url}/_emulator${p}`, { method: 'POST', body: new URLSearchParams(body) }).then((r) => r.json() as Promise<{ id: string }>);
    const a = await platform.accounts.create({ type: 'express', country: 'DE', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
    await control(`/accounts/${a.id}/complete_onboarding`);
    await saveConnection(h.rt, { organizerId: h.shop.organizer.id, eventId: null, account: await platform.accounts.retrieve(a.id) });
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { connectFees: { EUR: { percent: '5', fixed: 0, min: 0, max: null } } });
    // Kassa's own orders, charged through Connect (destination), paid by the buyer with a test card.
    const charge = async (quantity: number) => {
      const placed = await h.deps.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'buyer@example.org', positions: Array.from({ length: quantity }, () => ({ productId: h.shop.product.id })), provider: 'stripe' });
      await h.deps.core.payments.executePayment(placed.payment!.id, {});
      const { payment } = await h.deps.core.payments.loadPayment(placed.payment!.id);
      return platform.paymentIntents.confirm(String(payment.info.intentId), { payment_method: 'pm_card_visa', return_url: 'https://shop.invalid/return' });
    };
    const first = await charge(1);
    await charge(2);
    await platform.refunds.create({ payment_intent: first.id, amount: 1200, reverse_transfer: true, refund_application_fee: true });
    const paid = await control(`/accounts/${a.id}/payout`);
    await control(`/payouts/${paid.id}/paid`);
    await charge(1);
    const failed = await control(`/accounts/${a.id}/payout`);
    await control(`/payouts/${failed.id}/fail`, { failure_code: 'account_closed' });
    await charge(1);
    await h.emulator.flushWebhooks();
    for (const job of h.jobs) await runEventJob(h.rt, job);

    const { cookie } = await h.signIn(h.shop.organizer.id);
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const host = new URL(h.baseUrl).hostname;
    await context.addCookies(cookie.split('; ').map((c) => {
      const [name, ...value] = c.split('=');
      return { name: name as string, value: value.join('='), domain: host, path: '/' };
    }));
    const page = await context.newPage();
    const shoot = async (url: string, selector: string, file: string) => {
      await page.goto(`${h.baseUrl}${url}`);
      await page.waitForSelector(selector);
      const out = path.resolve(__dirname, '../../../../docs/images', file);
      await page.screenshot({ path: out, fullPage: true });
      process.stdout.write(`wrote ${out}\n`);
    };
    await shoot('/plugins/stripe/control/connect/payouts', '#stripe-payouts-list', 'stripe-connect-payouts.png');
    const [row] = await h.db.dataSource.query('SELECT id FROM stripe_connect_payout WHERE payout_id = $1', [paid.id]);
    await shoot(`/plugins/stripe/control/connect/payouts/${String(row.id)}`, '#stripe-payout-lines', 'stripe-connect-payout.png');
  } finally {
    await browser.close();
    await h.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
