import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { parseConfig } from '@kassa/core/host';
import { silentLogger } from '@kassa/jobs';
import { createTestDatabase, type TestDatabase, launchChromium } from '@kassa/testing';
import { startKassa, type RunningKassa } from '../../src/start-kassa';
import { checkoutToConfirm } from '../support/browser-checkout';

/*
 * Payment plans in Chromium on the whole stack (server, in-process worker, Stripe emulator with its
 * Stripe.js double, real PostgreSQL): the buyer chooses instalments at checkout and pays the deposit
 * with a card that is saved; a later instalment charged off-session needs authentication, the buyer
 * is emailed, opens the link and completes 3-D Secure on the pay page (docs/payment-plans.md).
 */
let db: TestDatabase;
let kassa: RunningKassa;
let browser: Browser;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-e2e-plans-'));

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
  const config = parseConfig({
    DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_JOBS_SCHEMA: `${db.schema}_jobs`, HOST: '127.0.0.1', PORT: 0,
    KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
  });
  kassa = await startKassa(config, { inProcessJobs: true, embeddedDefaults: true, passwordLogN: 10, jobsLogger: silentLogger });
  const [event] = await db.dataSource.query(`SELECT id FROM event ORDER BY created_at LIMIT 1`);
  await kassa.kassa.core.plans.updateSettings(event.id, { enabled: true, instalments: 3, intervalDays: 30 });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await kassa?.close();
  await kassa?.jobs.destroyBackend();
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

async function fillCard(page: Page, number: string): Promise<void> {
  await page.fill('#kassa-card-number', number);
  await page.fill('#kassa-card-expiry', '12/34');
  await page.fill('#kassa-card-cvc', '123');
}

/** Polls until the check passes: the worker runs asynchronously (no wall-clock assertion, only a wait). */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const instalments = async (orderId: string) => (await kassa.kassa.core.plans.view(orderId))!.instalments;

/**
 * Event page → confirm page, where the buyer chooses 3 instalments (the schedule is shown first),
 * places the order and pays the deposit with `card` on the Stripe pay page.
 */
async function buyWithPlan(email: string, card: string, threeDS: boolean): Promise<{ page: Page; orderId: string; code: string }> {
  const page = await checkoutToConfirm(browser, `${kassa.url}${kassa.eventPath}`, 'stripe', email);
  const schedule = page.getByTestId('plan-schedule');
  expect(await schedule.locator('tbody tr').count()).toBe(3);
  expect(await schedule.locator('tbody tr').first().textContent()).toContain('today');
  await page.getByTestId('plan-instalments').check();
  await page.getByTestId('place-order').click();
  await page.waitForURL(/\/plugins\/stripe\/pay\//);
  await page.waitForSelector('#stripe-pay-button:not([disabled])');
  await fillCard(page, card);
  await page.click('#stripe-pay-button');
  if (threeDS) await page.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-complete').click();
  await page.waitForURL(/\/order\/[A-Z0-9]+\/[^/]+\/$/);
  const code = /\/order\/([A-Z0-9]+)\//.exec(page.url())![1]!;
  const [order] = await db.dataSource.query(`SELECT id FROM kassa_order WHERE code = $1`, [code]);
  return { page, orderId: order.id, code };
}

it('the buyer chooses 3 instalments and pays the deposit with 4242: deposit paid, card saved once, schedule on the order page', async () => {
  const { page, orderId } = await buyWithPlan('plan-a@example.org', '4242 4242 4242 4242', false);
  const plan = await instalments(orderId);
  expect(plan.map((i) => i.state)).toEqual(['paid', 'scheduled', 'scheduled']);
  // The deposit is a third of the total (core's allocation), the order pending until the last instalment.
  const [order] = await db.dataSource.query(`SELECT status, total::int AS total FROM kassa_order WHERE id = $1`, [orderId]);
  expect(order.status).toBe('pending');
  expect(plan.reduce((n, i) => n + i.amount, 0)).toBe(order.total);
  // The card was saved from the deposit's PaymentIntent (setup_future_usage=off_session), once,
  // although both the return page and the webhook (through the worker) saw it succeed.
  const methods = await kassa.kassa.core.storedMethods.listForOrder(orderId);
  expect(methods).toEqual([expect.objectContaining({ brand: 'visa', last4: '4242' })]);
  expect((await kassa.kassa.core.plans.view(orderId))!.plan.storedMethodId).toBe(methods[0]!.id);
  const [deposit] = await db.dataSource.query(`SELECT info FROM order_payment WHERE id = $1`, [plan[0]!.paymentId]);
  await eventually(
    () => db.dataSource.query(`SELECT processed_at FROM stripe_webhook_inbox WHERE intent_id = $1 AND type = 'payment_intent.succeeded'`, [deposit.info.intentId]),
    (rows: { processed_at: Date | null }[]) => rows.length === 1 && rows[0]!.processed_at !== null,
    'the deposit\'s webhook to be processed',
  );
  const [saved] = await db.dataSource.query(`SELECT count(*)::int AS n FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.stored_method.saved'`, [orderId]);
  expect(saved.n).toBe(1);
  // The buyer sees the schedule: three instalments, the first paid, the card it is charged to.
  await page.reload();
  const rows = page.getByTestId('plan-schedule').locator('tbody tr');
  expect(await rows.count()).toBe(3);
  expect(await rows.nth(0).getAttribute('data-state')).toBe('paid');
  expect(await rows.nth(1).getAttribute('data-state')).toBe('scheduled');
  expect(await page.getByTestId('plan-schedule').textContent()).toContain('Visa ····4242');
  expect(await page.locator('.saved-methods').textContent()).toContain('Visa ····4242');
  await page.close();
});

it('an instalment charged off-session with 4000 0027 6000 3184 needs authentication: the buyer follows the emailed link and completes 3-D Secure', async () => {
  const { page, orderId, code } = await buyWithPlan('plan-b@example.org', '4000 0027 6000 3184', true);
  await page.close();
  const second = (await instalments(orderId))[1]!;
  // The charge run reaches the second instalment (charged now instead of in 30 days).
  await kassa.kassa.core.plans.makeDueNow(orderId, second.id, { type: 'system' });
  const run = await kassa.kassa.core.chargeRuns.run({ onlyIds: [second.id] });
  expect(run).toMatchObject({ claimed: 1, actionRequired: 1 });
  expect((await instalments(orderId))[1]).toMatchObject({ state: 'action_required', actionReason: 'authentication' });
  // The run's PaymentIntent is kept on the instalment's payment, which stays open for the buyer.
  const [tried] = await db.dataSource.query(`SELECT state, info FROM order_payment WHERE id = $1`, [second.paymentId]);
  expect(tried.state).toBe('created');
  const runIntent = String(tried.info.intentId);
  expect(runIntent).toMatch(/^pi_/);

  // The worker emails the buyer at once (off-session: nobody is at the browser); the mail links the order page.
  const [mail] = await eventually(
    () => db.dataSource.query(`SELECT subject, body_text FROM email_message WHERE order_id = $1 AND recipient = 'plan-b@example.org' AND body_text LIKE '%/order/%' AND subject ILIKE '%complete%'`, [orderId]),
    (rows: unknown[]) => rows.length === 1,
    'the "complete your payment" email',
  ) as { subject: string; body_text: string }[];
  const link = /(http:\/\/\S+\/order\/[A-Z0-9]+\/\S+\/)/.exec(mail!.body_text)![1]!;
  expect(link).toContain(`/order/${code}/`);

  const buyer = await browser.newPage();
  buyer.setDefaultTimeout(20_000);
  await buyer.goto(link);
  expect(await buyer.locator('[data-testid=plan-schedule] tbody tr').nth(1).getAttribute('data-state')).toBe('action_required');
  await buyer.getByTestId('stripe-complete-payment').click();
  await buyer.waitForURL(/\/plugins\/stripe\/pay\//);
  await buyer.waitForSelector('#stripe-pay-button:not([disabled])');
  await fillCard(buyer, '4000 0027 6000 3184');
  await buyer.click('#stripe-pay-button');
  await buyer.frameLocator('#kassa-3ds-frame').locator('#kassa-3ds-complete').click();
  await buyer.waitForURL(/\/order\/[A-Z0-9]+\/[^/]+\/$/);
  expect(await buyer.locator('[data-testid=plan-schedule] tbody tr').nth(1).getAttribute('data-state')).toBe('paid');
  const after = await instalments(orderId);
  expect(after.map((i) => i.state)).toEqual(['paid', 'paid', 'scheduled']);
  // The same PaymentIntent the charge run tried was completed on-session (Stripe's recipe): no second intent.
  const [payment] = await db.dataSource.query(`SELECT state, info FROM order_payment WHERE id = $1`, [second.paymentId]);
  expect(payment.state).toBe('confirmed');
  expect(payment.info.intentId).toBe(runIntent);
  expect(payment.info).toMatchObject({ status: 'succeeded', card: expect.objectContaining({ last4: '3184' }) });
  await buyer.close();
});

it('a plan without a deposit: the pay page saves the card in setup mode (SetupIntent), and the first instalment is charged off-session with it', async () => {
  const [event] = await db.dataSource.query(`SELECT id FROM event ORDER BY created_at LIMIT 1`);
  await kassa.kassa.core.plans.updateSettings(event.id, { enabled: true, instalments: 3, intervalDays: 30, noDeposit: true });
  const page = await checkoutToConfirm(browser, `${kassa.url}${kassa.eventPath}`, 'stripe', 'plan-c@example.org');
  expect(await page.getByTestId('plan-schedule').textContent()).not.toContain('today');
  await page.getByTestId('plan-instalments').check();
  await page.getByTestId('place-order').click();
  await page.waitForURL(/\/plugins\/stripe\/pay\//);
  expect(await page.locator('h1').textContent()).toContain('Save your card');
  await page.waitForSelector('#stripe-pay-button:not([disabled])');
  await fillCard(page, '4242 4242 4242 4242');
  await page.click('#stripe-pay-button');
  await page.waitForURL(/\/order\/[A-Z0-9]+\/[^/]+\/$/);
  const code = /\/order\/([A-Z0-9]+)\//.exec(page.url())![1]!;
  const [order] = await db.dataSource.query(`SELECT id, status FROM kassa_order WHERE code = $1`, [code]);
  expect(order.status).toBe('pending');
  const plan = await instalments(order.id);
  expect(plan.map((i) => i.state)).toEqual(['scheduled', 'scheduled', 'scheduled']);
  // The checkout's attempt took no money and is done; the card came from a SetupIntent, never a charge.
  const attempts = await db.dataSource.query(`SELECT state, amount::int AS amount, info FROM order_payment WHERE order_id = $1 AND id <> ALL($2::uuid[])`, [order.id, plan.map((i) => i.paymentId)]);
  expect(attempts).toEqual([expect.objectContaining({ state: 'confirmed', amount: 0, info: expect.objectContaining({ setupIntentId: expect.stringMatching(/^seti_/) }) })]);
  const methods = await kassa.kassa.core.storedMethods.listForOrder(order.id);
  expect(methods).toEqual([expect.objectContaining({ brand: 'visa', last4: '4242' })]);
  expect((await kassa.kassa.core.plans.view(order.id))!.plan.storedMethodId).toBe(methods[0]!.id);
  expect(await page.getByTestId('plan-schedule').textContent()).toContain('Visa ····4242');

  // The first instalment's date comes (charged now here): off-session with the saved card, paid.
  await kassa.kassa.core.plans.makeDueNow(order.id, plan[0]!.id, { type: 'system' });
  expect(await kassa.kassa.core.chargeRuns.run({ onlyIds: [plan[0]!.id] })).toMatchObject({ claimed: 1, succeeded: 1 });
  expect((await instalments(order.id)).map((i) => i.state)).toEqual(['paid', 'scheduled', 'scheduled']);
  await page.close();
});
