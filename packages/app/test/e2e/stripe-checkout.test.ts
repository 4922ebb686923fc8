import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { parseConfig } from '@kassa/core/host';
import { jobIds, silentLogger } from '@kassa/jobs';
import { createTestDatabase, type TestDatabase, launchChromium } from '@kassa/testing';
import { startKassa, type RunningKassa } from '../../src/start-kassa';
import { checkoutToConfirm } from '../support/browser-checkout';

/*
 * The "one command" bar, in-process: startKassa() wires the same stack as `pnpm start` (server,
 * jobs worker, Stripe emulator and its Stripe.js double, demo seed) on a fresh schema of the real
 * PostgreSQL. A buyer in Chromium goes from the demo event page through the checkout to the Stripe
 * pay page and pays; the worker processes the webhooks the emulator sends back.
 */
let db: TestDatabase;
let kassa: RunningKassa;
let browser: Browser;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-e2e-'));

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
  const config = parseConfig({
    DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_JOBS_SCHEMA: `${db.schema}_jobs`, HOST: '127.0.0.1', PORT: 0,
    KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
  });
  kassa = await startKassa(config, { inProcessJobs: true, embeddedDefaults: true, passwordLogN: 10, jobsLogger: silentLogger });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await kassa?.close();
  await kassa?.jobs.destroyBackend();
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Event page → cart → email → Stripe → confirm → place order; resolves on the pay page with the card form ready. */
async function checkoutToPayPage(): Promise<{ page: Page; paymentId: string }> {
  const page = await checkoutToConfirm(browser, `${kassa.url}${kassa.eventPath}`, 'stripe');
  await page.getByTestId('place-order').click();
  await page.waitForURL(/\/plugins\/stripe\/pay\//);
  await page.waitForSelector('#kassa-card-number');
  await page.waitForSelector('#stripe-pay-button:not([disabled])');
  const paymentId = /\/pay\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
  return { page, paymentId };
}

async function fillCard(page: Page, number: string): Promise<void> {
  await page.fill('#kassa-card-number', number);
  await page.fill('#kassa-card-expiry', '12/34');
  await page.fill('#kassa-card-cvc', '123');
}

/** Lands on the buyer's order page and returns its status line. */
async function orderStatus(page: Page): Promise<string> {
  await page.waitForURL(/\/order\/[A-Z0-9]+\/[^/]+\/$/);
  return (await page.getByTestId('order-status').textContent()) ?? '';
}

const paymentRow = async (id: string) =>
  (await db.dataSource.query(`SELECT state, info, order_id FROM order_payment WHERE id = $1`, [id]))[0] as { state: string; info: Record<string, unknown>; order_id: string };

/** Polls until the check passes: the worker runs asynchronously (no wall-clock assertion, only a wait). */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('pays with 4242 4242 4242 4242: order page paid, webhooks processed by the worker, paid in the control panel', async () => {
  const { page, paymentId } = await checkoutToPayPage();
  await fillCard(page, '4242 4242 4242 4242');
  await page.click('#stripe-pay-button');
  expect(await orderStatus(page)).toContain('Paid');
  const code = /\/order\/([A-Z0-9]+)\//.exec(page.url())![1]!;
  const payment = await paymentRow(paymentId);
  expect(payment.state).toBe('confirmed');
  expect(payment.info).toMatchObject({ card: { brand: 'visa', last4: '4242' } });

  // The emulator delivered payment_intent.succeeded to our webhook route; the in-process worker processed it.
  const intentId = String(payment.info.intentId);
  const inbox = await eventually(
    () => db.dataSource.query(`SELECT type, source, processed_at, last_error FROM stripe_webhook_inbox WHERE intent_id = $1 AND type = 'payment_intent.succeeded'`, [intentId]),
    (rows: { processed_at: Date | null }[]) => rows.length === 1 && rows[0]!.processed_at !== null,
    'the payment_intent.succeeded webhook to be processed',
  );
  expect(inbox[0]).toMatchObject({ source: 'webhook', last_error: null });

  // The organizer logs in with the seeded demo login and sees the order as paid.
  const control = await browser.newPage();
  await control.goto(`${kassa.url}/control/login`);
  await control.fill('#email', kassa.login!.email);
  await control.fill('#password', kassa.login!.password);
  await control.getByRole('button', { name: /log in/i }).click();
  await control.waitForURL(/\/control$/);
  await control.goto(`${kassa.url}/control/orders`);
  const row = control.locator('tbody tr', { hasText: code });
  expect(await row.locator('.badge').textContent()).toBe('paid');

  // Emails: "payment received", and no "please complete your payment" even once its delay is over
  // (the delayed check is promoted here instead of waiting the default 15 minutes).
  await eventually(
    () => db.dataSource.query(`SELECT count(*)::int AS events, count(d.event_id)::int AS done FROM outbox_event e LEFT JOIN outbox_delivery d ON d.event_id = e.id WHERE e.order_id = $1`, [payment.order_id]),
    (rows: { events: number; done: number }[]) => rows[0]!.events > 0 && rows[0]!.events === rows[0]!.done,
    'the order\'s events to be delivered',
  );
  const [prompt] = await db.dataSource.query(`SELECT id::text AS id FROM outbox_event WHERE order_id = $1 AND topic = 'payment.action_required'`, [payment.order_id]);
  const check = await kassa.jobs.queues.maintenance.getJob(jobIds.actionRequiredCheck(prompt.id));
  await check!.promote();
  await eventually(async () => (await kassa.jobs.queues.maintenance.getJob(check!.id!))?.getState(), (s) => s === 'completed', 'the delayed check to run');
  await control.goto(`${kassa.url}/control/emails`);
  const subjects = await control.locator('tbody tr td:first-child a').allTextContents();
  expect(subjects).toContain(`Payment received: order ${code}`);
  expect(subjects).not.toContain(`Please complete your payment for order ${code}`);
  await control.close();
  await page.close();
});

it('a buyer who never comes back from the card form is still paid, by the webhook through the worker alone', async () => {
  const { page, paymentId } = await checkoutToPayPage();
  // The return page is what normally applies the outcome; without it only the webhook can.
  await page.route('**/plugins/stripe/return/**', (route) => route.abort());
  await fillCard(page, '4242 4242 4242 4242');
  await page.click('#stripe-pay-button');
  const payment = await eventually(() => paymentRow(paymentId), (p) => p.state === 'confirmed', 'the webhook to confirm the payment');
  const [order] = await db.dataSource.query(`SELECT status FROM kassa_order WHERE id = $1`, [payment.order_id]);
  expect(order.status).toBe('paid');
  await page.close();
});

it('completes a 3-D Secure challenge (4000 0025 0000 3155), then the order is paid', async () => {
  const { page, paymentId } = await checkoutToPayPage();
  await fillCard(page, '4000 0025 0000 3155');
  await page.click('#stripe-pay-button');
  await page.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-complete').click();
  expect(await orderStatus(page)).toContain('Paid');
  const payment = await paymentRow(paymentId);
  expect(payment.state).toBe('confirmed');
  // The intent really went through requires_action: the emulator said so through our webhook route.
  const actionEvents = await eventually(
    () => db.dataSource.query(`SELECT processed_at FROM stripe_webhook_inbox WHERE intent_id = $1 AND type = 'payment_intent.requires_action'`, [String(payment.info.intentId)]),
    (rows: unknown[]) => rows.length === 1,
    'the requires_action webhook',
  );
  expect(actionEvents).toHaveLength(1);
  await page.close();
});

it('a declined card (4000 0000 0000 0002) is shown on the pay page; a retry with 4242 succeeds', async () => {
  const { page, paymentId } = await checkoutToPayPage();
  await fillCard(page, '4000 0000 0000 0002');
  await page.click('#stripe-pay-button');
  await page.waitForSelector('#stripe-payment-error:not([hidden])');
  expect(await page.textContent('#stripe-payment-error')).toMatch(/declined/i);
  // The decline reaches us as payment_intent.payment_failed through the worker: the attempt is
  // booked as failed (the order page offers a retry or another method)…
  const failed = await eventually(() => paymentRow(paymentId), (p) => p.state === 'failed', 'the declined attempt booked as failed');
  expect(failed.info).toMatchObject({ lastError: expect.objectContaining({ message: expect.stringMatching(/declined/i) }) });
  // …and the buyer can still pay on the same page: money received later is never dropped (failed → confirmed).
  await fillCard(page, '4242 4242 4242 4242');
  await page.click('#stripe-pay-button');
  expect(await orderStatus(page)).toContain('Paid');
  expect((await paymentRow(paymentId)).state).toBe('confirmed');
  await page.close();
});

it('the Stripe settings page: on the instance\'s keys it explains the operator\'s endpoint; with keys of its own it creates one with a CSRF-protected post', async () => {
  const control = await browser.newPage();
  control.setDefaultTimeout(20_000);
  await control.goto(`${kassa.url}/control/login`);
  await control.fill('#email', kassa.login!.email);
  await control.fill('#password', kassa.login!.password);
  await control.getByRole('button', { name: /log in/i }).click();
  await control.waitForURL(/\/control$/);
  await control.goto(`${kassa.url}/control/settings/payment/stripe`);
  // The demo organizer uses the embedded default's keys, set for the instance: the endpoint the host
  // created at start delivers that account's events, and the page offers no button of its own.
  expect(await control.getByTestId('webhook-endpoint-by-operator').textContent()).toContain('the instance\'s operator creates their webhook endpoint');
  expect(await control.getByTestId('create-webhook-endpoint').count()).toBe(0);
  // The organizer enters keys of its own (another account at the emulator); then the button is there.
  await control.fill('#f-secretKey', 'sk_test_demoOrganizersOwn');
  await control.fill('#f-publishableKey', 'pk_test_demoOrganizersOwn');
  await control.getByRole('button', { name: 'Save' }).click();
  await control.waitForURL(/\/control\/settings\/payment$/);
  await control.goto(`${kassa.url}/control/settings/payment/stripe`);
  await control.getByTestId('create-webhook-endpoint').click();
  const result = control.locator('#webhook-endpoint-result.flash-success');
  await result.waitFor();
  const endpointId = /(we_\w+)/.exec((await result.textContent()) ?? '')![1]!;
  const url = /\/plugins\/stripe\/webhook\/(acct_\w+)/.exec((await result.textContent()) ?? '');
  expect(await result.textContent()).toContain(`${kassa.url}/plugins/stripe/webhook/acct_`);
  const [account] = await db.dataSource.query(`SELECT scope, webhook_endpoint_id FROM stripe_account WHERE account_id = $1`, [url![1]]);
  expect(account).toEqual({ scope: 'organizer', webhook_endpoint_id: endpointId });
  // The new signing secret is stored on the new endpoint's row (of the organizer's own account, at its level).
  const [organizer] = await db.dataSource.query(`SELECT id FROM organizer WHERE slug = 'demo'`);
  const rows = await db.dataSource.query(`SELECT scope, organizer_id, secret IS NOT NULL AS has_secret FROM stripe_webhook_endpoint WHERE endpoint_id = $1`, [endpointId]);
  expect(rows).toEqual([{ scope: 'organizer', organizer_id: organizer.id, has_secret: true }]);
  // The instance's account keeps the host's endpoint alone.
  expect(await db.dataSource.query(`SELECT count(*)::int AS n FROM stripe_webhook_endpoint WHERE scope = 'global'`)).toEqual([{ n: 1 }]);
  await control.close();
});
