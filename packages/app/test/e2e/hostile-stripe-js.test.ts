import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { globalSettings, parseConfig } from '@kassa/core/host';
import { silentLogger } from '@kassa/jobs';
import { createTestDatabase, launchChromium, type TestDatabase } from '@kassa/testing';
import { startKassa, type RunningKassa } from '../../src/start-kassa';
import { checkoutToConfirm } from '../support/browser-checkout';

/*
 * The critical attack, in a real browser against the whole stack (startKassa with the embedded
 * emulator, as `pnpm start` runs it): an organizer admin tries to point the Stripe plugin's
 * "Stripe.js URL" at its own script, which would run on Kassa's origin, read another organizer's
 * control panel when its admin opens the page, and send an API token away. The control panel
 * refuses it; the same value planted in the settings table is ignored; the buyer's pay page loads
 * only the instance's Stripe.js, allowed by the CSP's host list (no nonce on it), and pays.
 */
let db: TestDatabase;
let kassa: RunningKassa;
let browser: Browser;
let hostile: Server;
let hostileUrl: string;
const hostileRequests: string[] = [];
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-hostile-'));

beforeAll(async () => {
  // The organizer's server: a script that would act on Kassa's origin, and an "API" that would collect the key.
  hostile = createServer((req, res) => {
    hostileRequests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/javascript' }).end('window.__pwned = true; window.Stripe = function () { throw new Error("hostile"); };');
  });
  await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  db = await createTestDatabase({ poolSize: 2 });
  const config = parseConfig({
    DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_JOBS_SCHEMA: `${db.schema}_jobs`, HOST: '127.0.0.1', PORT: 0,
    KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
  });
  kassa = await startKassa(config, { inProcessJobs: false, embeddedDefaults: true, passwordLogN: 10, jobsLogger: silentLogger });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await kassa?.close();
  await kassa?.jobs.destroyBackend();
  await db?.destroy();
  await new Promise<void>((resolve) => hostile.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

it('an organizer cannot make the pay page load its script: refused in the control panel, ignored when planted, never given the nonce', async () => {
  const evilJs = `${hostileUrl}/steal.js`;
  // 1. The organizer's admin (the seeded demo login) opens its Stripe settings: no such field…
  const control = await browser.newPage();
  control.setDefaultTimeout(20_000);
  await control.goto(`${kassa.url}/control/login`);
  await control.fill('#email', kassa.login!.email);
  await control.fill('#password', kassa.login!.password);
  await control.getByRole('button', { name: /log in/i }).click();
  await control.waitForURL(/\/control$/);
  await control.goto(`${kassa.url}/control/settings/payment/stripe`);
  expect(await control.locator('input[name=secretKey]').count()).toBe(1);
  expect(await control.locator('[name=stripeJsUrl], [name=apiBase]').count()).toBe(0);
  // …so it forges the form post from the page, with the page's own CSRF token: refused, naming the field.
  const forged = await control.evaluate(async (url) => {
    const form = document.querySelector('form[action$="/control/settings/payment/stripe"]') as HTMLFormElement;
    const body = new URLSearchParams(new FormData(form) as unknown as Record<string, string>);
    body.set('stripeJsUrl', url);
    const res = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin' });
    return { status: res.status, text: await res.text() };
  }, evilJs);
  expect(forged.status).toBe(400);
  expect(forged.text).toContain('stripeJsUrl in payment.stripe is an instance-only setting');
  await control.close();
  const [organizer] = await db.dataSource.query(`SELECT id FROM organizer WHERE slug = 'demo'`);
  expect(await db.dataSource.query(`SELECT scope FROM setting WHERE key IN ('stripeJsUrl', 'apiBase') AND scope <> 'global'`)).toEqual([]);

  // 2. A value planted straight in the table (as an older version could have stored it) is ignored.
  for (const [key, value] of [['stripeJsUrl', evilJs], ['apiBase', hostileUrl]]) {
    await db.dataSource.query(
      `INSERT INTO setting (scope, scope_id, namespace, key, value, encrypted) VALUES ('organizer', $1, 'payment.stripe', $2, $3::jsonb, false)`,
      [organizer.id, key, JSON.stringify(value)],
    );
  }

  // 3. A buyer checks out: the pay page loads the emulator's Stripe.js (the instance's), and only it.
  const page = await checkoutToConfirm(browser, `${kassa.url}${kassa.eventPath}`, 'stripe');
  const payPage = page.waitForResponse((r) => r.url().includes('/plugins/stripe/pay/'));
  await page.getByTestId('place-order').click();
  const response = await payPage;
  await page.waitForSelector('#stripe-pay-button:not([disabled])');

  const csp = response.headers()['content-security-policy'] ?? '';
  const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1]?.split(' ') ?? [];
  // The instance's Stripe.js: the emulator's, written at the global level by the plugin's embedded default.
  const emulatorJs = String((await kassa.kassa.settings.resolve(globalSettings, 'payment.stripe', { fresh: true })).stripeJsUrl);
  expect(emulatorJs).not.toContain(hostileUrl);
  const emulatorOrigin = new URL(emulatorJs).origin;
  expect(scriptSrc).toContain(emulatorOrigin);
  expect(csp).not.toContain(hostileUrl);
  const html = await response.text();
  // Every external script: no nonce on it, and its origin is in the CSP's host list.
  const external = [...html.matchAll(/<script\b([^>]*\bsrc="([^"]+)"[^>]*)>/g)].map((m) => ({ attrs: m[1] as string, src: m[2] as string }));
  expect(external.map((s) => s.src)).toContain(emulatorJs);
  for (const s of external) {
    expect(s.attrs).not.toMatch(/\bnonce=/);
    const origin = new URL(s.src, kassa.url).origin;
    expect(origin === new URL(kassa.url).origin || scriptSrc.includes(origin)).toBe(true);
  }
  expect(await page.$$eval('script[src]', (els) => els.map((e) => (e as HTMLScriptElement).src))).not.toContain(evilJs);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();

  // 4. The buyer pays through the emulator; the organizer's host never heard of any of it.
  await page.fill('#kassa-card-number', '4242 4242 4242 4242');
  await page.fill('#kassa-card-expiry', '12/34');
  await page.fill('#kassa-card-cvc', '123');
  await page.click('#stripe-pay-button');
  await page.waitForURL(/\/order\/[A-Z0-9]+\/[^/]+\/$/);
  expect(await page.getByTestId('order-status').textContent()).toContain('Paid');
  expect(hostileRequests).toEqual([]);
  await page.close();
});
