import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '@kassa/testing';
import { createJobsRuntime, defineJobsConfig, silentLogger, type JobsRuntime } from '@kassa/jobs';
import { bulkTaskJobs } from '../../src/bulk/bulk-jobs';
import { createOrganizerFixture, createTestApp, placeManualOrder, type OrganizerFixture, type TestApp } from '../infra/test-app';

/*
 * In a real Chromium under the app's strict CSP (scripts from our origin and nonces only): the
 * dashboard chart is drawn by Chart.js from the JSON route, the export form runs a job whose
 * progress page turns into a download link by itself, and the shredder shows its preview. No CSP
 * violation is reported on any of these pages. The screenshots go to docs/images/.
 */
let t: TestApp;
let jobs: JobsRuntime;
let browser: Browser;
let baseUrl: string;
let a: OrganizerFixture;
const images = path.resolve(__dirname, '../../../../docs/images');

beforeAll(async () => {
  t = await createTestApp({ passwordLogN: 10 });
  jobs = await createJobsRuntime({
    dataSource: t.db.dataSource, logger: silentLogger, clock: t.clock, withoutEmailHandlers: true,
    hostJobs: bulkTaskJobs({ dataSource: t.db.dataSource, core: t.core, providers: t.deps.providers, clock: t.clock }),
    config: defineJobsConfig({ backend: { kind: 'redis', url: 'redis://127.0.0.1:6379', prefix: `kassa-test-${randomBytes(4).toString('hex')}` }, retry: { attempts: 1, backoffMs: 10 } }),
  });
  (t.deps as { enqueueHostJob?: unknown }).enqueueHostJob = jobs.enqueueHostJob;
  await jobs.start({ relay: false, schedulers: false });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  a = await createOrganizerFixture(t, { price: 4500 });
  // Orders over the last two weeks: most paid, some pending, one canceled.
  for (let i = 0; i < 24; i++) {
    const { order, payment } = await placeManualOrder(t, a, `buyer${i}@example.org`);
    const day = new Date(t.clock.now().getTime() - (i % 12) * 86_400_000);
    if (i % 4 !== 0) await t.core.payments.manualConfirm(payment.id, { actor: { type: 'system' }, paymentDate: day });
    if (i === 5) await t.core.orders.cancelOrder(order.id, { actor: { type: 'system' } }).catch(() => undefined);
    await t.db.dataSource.query('UPDATE kassa_order SET created_at = $2 WHERE id = $1', [order.id, day]);
  }
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await jobs?.stop();
  await jobs?.destroyBackend();
  await t?.close();
});

/** A logged-in page that records every CSP violation the browser reports. */
async function loggedIn(): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
  const violations: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${baseUrl}/control/login`);
  await page.fill('#email', a.email);
  await page.fill('#password', a.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${baseUrl}/control`);
  return { page, violations };
}

it('draws the dashboard chart with Chart.js under the CSP, with the table as fallback', async () => {
  const { page, violations } = await loggedIn();
  const csp = (await page.request.get(`${baseUrl}/control`)).headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  await page.waitForSelector('#order-chart[data-chart-ready="5"]', { timeout: 15_000 });
  // The canvas really holds a drawing: many non-transparent pixels.
  const painted = await page.$eval('#order-chart', (c) => {
    const canvas = c as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
    return n;
  });
  expect(painted).toBeGreaterThan(5_000);
  expect(await page.$eval('#order-chart', (c) => c.getAttribute('data-chart-error'))).toBeNull();
  await page.locator('#chart-card').screenshot({ path: path.join(images, 'control-dashboard-chart.png') });
  await page.locator('#attention').screenshot({ path: path.join(images, 'control-dashboard-figures.png') });
  await page.click('#chart-table summary');
  expect(await page.locator('#chart-table tbody tr').count()).toBeGreaterThan(5);
  expect(violations).toEqual([]);
});

it('runs an export from the form and offers the file when the job is done, under the CSP', async () => {
  const { page, violations } = await loggedIn();
  await page.goto(`${baseUrl}/control/exports`);
  await page.selectOption('#f-dataset', 'orders');
  await page.selectOption('#f-eventId', a.event.id);
  await page.selectOption('#f-format', 'xlsx');
  await page.screenshot({ path: path.join(images, 'control-exports.png') });
  await page.getByRole('button', { name: 'Start export' }).click();
  await page.waitForURL(/\/control\/exports\/[0-9a-f-]{36}$/);
  // The progress script reloads the page once the job has finished; the download link appears.
  await page.waitForSelector('#task-download', { timeout: 20_000 });
  expect(await page.textContent('#task-count')).toContain('24 of 24 rows');
  await page.screenshot({ path: path.join(images, 'control-export-done.png') });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#task-download')]);
  expect(download.suggestedFilename()).toMatch(/^orders-.+\.xlsx$/);
  expect(violations).toEqual([]);
});

it("shows the shredder's preview for an event", async () => {
  const { page, violations } = await loggedIn();
  await page.goto(`${baseUrl}/control/shredder`);
  await page.selectOption('#f-eventId', a.event.id);
  await page.getByRole('button', { name: 'Show what would be removed' }).click();
  await page.waitForSelector('#shred-preview');
  expect(await page.textContent('#shred-preview')).toContain('Buyer email addresses24');
  await page.screenshot({ path: path.join(images, 'control-shredder-preview.png') });
  expect(violations).toEqual([]);
});
