/**
 * Screenshots of the control panel for docs/organizer-guide.md, written to docs/images/*.png.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/app/scripts/screenshots.ts
 *
 * Runs the real app on a fresh schema of the local PostgreSQL (DATABASE_URL, default the `test`
 * database), seeds the demo, places a few orders in interesting states, then drives Debian's
 * Chromium (playwright-core) through the panel. Each page is checked to render: styled (the
 * stylesheet applied) and no error page, so a broken page fails the script instead of being
 * captured.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import {
  AuthStore, createDataSource, createKassaCore, createOrganizerWithAdminTeam, createProviderContextFactory, loadPlugins, runMigrations, SettingsStore,
  setOrganizerActive, systemClock, type Order,
} from '@kassa/core/host';
import { buildApp, createApiToken, shopMigrations } from '@kassa/server';
import { seedDemo } from '../src/seed/demo-seed';

const outDir = path.resolve(__dirname, '../../../docs/images');

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `shots_${randomBytes(4).toString('hex')}`;
  const dataSource = createDataSource({ url, schema, migrations: [...shopMigrations], poolSize: 5 });
  await dataSource.initialize();
  await dataSource.query(`CREATE SCHEMA ${schema}`);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    await runMigrations(dataSource);
    const loaded = loadPlugins([], { clock: systemClock });
    const settings = new SettingsStore(dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
    const app0 = { baseUrl: 'http://127.0.0.1:0' };
    const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock: systemClock, baseUrl: app0.baseUrl });
    const core = createKassaCore({ dataSource, providers: loaded.providers, providerContext, clock: systemClock });
    const seed = await seedDemo(dataSource, settings);
    const orders = await placeDemoOrders(core, dataSource);

    const app = await buildApp({
      dataSource, clock: systemClock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
      config: { baseUrl: 'http://127.0.0.1', sessionSecret: randomBytes(32).toString('hex') },
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await mkdir(outDir, { recursive: true });

    await shot(page, `${address}/control/login`, 'control-login');
    await page.fill('#email', seed.login!.email);
    await page.fill('#password', seed.login!.password);
    await Promise.all([page.waitForURL(/\/control$/), page.click('button[type=submit]')]);
    await shot(page, `${address}/control`, 'control-dashboard');
    const eventId = (await dataSource.query("SELECT id FROM event WHERE slug = 'summer-fest'"))[0].id as string;
    await shot(page, `${address}/control/events/${eventId}`, 'control-event');
    // The event's payment plan settings (docs/payment-plans.md).
    await core.plans.updateSettings(eventId, { enabled: true, instalments: 3, intervalDays: 30, minTotal: 5000, graceDays: 7 });
    await shot(page, `${address}/control/events/${eventId}/plans`, 'control-plan-settings');
    await shot(page, `${address}/control/orders`, 'control-orders');
    await shot(page, `${address}/control/orders/${orders.paid.id}`, 'control-order-paid');
    await shot(page, `${address}/control/orders/${orders.paid.id}/refund?amount=20.00`, 'control-refund');
    await shot(page, `${address}/control/orders/${orders.external.id}`, 'control-order-external-refund');
    await shot(page, `${address}/control/settings/payment/manual`, 'control-settings-manual');
    // Two tokens with their permissions: a read-only one on all events, one for one event's box office.
    const demoOrganizer = (await dataSource.query("SELECT organizer_id FROM event WHERE slug = 'summer-fest'"))[0].organizer_id as string;
    await createApiToken(dataSource, demoOrganizer, 'Accounting sync', { permissions: ['event.orders.view'], allEvents: true, eventIds: [] });
    await createApiToken(dataSource, demoOrganizer, 'Box office', { permissions: ['event.orders.view', 'event.orders.change'], allEvents: false, eventIds: [eventId] });
    await shot(page, `${address}/control/api-tokens`, 'control-api-tokens');
    // Teams (organizer-guide.md) and the operator's admin area (operations.md).
    await teamAndAdminShots(page, address, dataSource);
    await app.close();
    process.stdout.write(`Screenshots written to ${outDir}\n`);
  } finally {
    await browser.close();
    await dataSource.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await dataSource.destroy();
  }
}

/** A paid order, a pending one, and a paid one whose payment was partly refunded outside Kassa. */
async function placeDemoOrders(core: ReturnType<typeof createKassaCore>, ds: ReturnType<typeof createDataSource>): Promise<{ paid: Order; external: Order }> {
  const event = (await ds.query("SELECT id FROM event WHERE slug = 'summer-fest'"))[0].id as string;
  const products: { id: string; name: string }[] = await ds.query('SELECT id, name FROM product WHERE event_id = $1 ORDER BY position', [event]);
  const place = (email: string, n: number) => core.orders.placeOrder({
    eventId: event, email, provider: 'manual', positions: Array.from({ length: n }, (_, i) => ({ productId: products[i % 2]!.id, attendeeName: `Guest ${i + 1}` })),
  });
  const actor = { type: 'system' as const };
  const paid = await place('alex@example.com', 2);
  await core.payments.manualConfirm(paid.payment!.id, { actor });
  await place('sam@example.com', 1);
  const external = await place('robin@example.com', 1);
  await core.payments.manualConfirm(external.payment!.id, { actor });
  await core.refunds.createExternalRefund(external.payment!.id, { amount: { amount: 1500, currency: 'EUR' }, comment: 'Refunded at the bank' });
  for (let i = 0; i < 5; i++) await place(`guest${i}@example.com`, 1 + (i % 2));
  return { paid: paid.order, external: external.order };
}

/** A second team with a member and an open invitation, then the admin area (the demo login as operator). */
async function teamAndAdminShots(page: Page, address: string, ds: ReturnType<typeof createDataSource>): Promise<void> {
  await page.goto(`${address}/control/teams/new`);
  await page.fill('#f-name', 'Box office');
  await page.check('input[name=can_view_orders]');
  await page.check('input[name=can_change_orders]');
  await Promise.all([page.waitForURL(/\/control\/teams\/[0-9a-f-]{36}$/), page.click('form.stack button[type=submit]')]);
  await page.fill('#f-email', 'kim@example.com');
  await Promise.all([page.waitForURL(/\/control\/teams\/[0-9a-f-]{36}$/), page.click('form.row button[type=submit]')]);
  await shot(page, page.url(), 'control-team');
  const organizer = await createOrganizerWithAdminTeam(ds, { name: 'Autumn Concerts', slug: 'autumn-concerts' });
  await setOrganizerActive(ds, organizer.organizer.id, false);
  const email = (await ds.query("SELECT email FROM app_user WHERE name = 'Demo Organizer'"))[0].email as string;
  await new AuthStore(ds).setOperator(email, true);
  await shot(page, `${address}/control/admin`, 'admin-organizers');
  // One organizer in the admin area: its teams with their members (Invite, Remove).
  const demo = (await ds.query("SELECT organizer_id FROM event WHERE slug = 'summer-fest'"))[0].organizer_id as string;
  await shot(page, `${address}/control/admin/organizers/${demo}`, 'admin-organizer');
}

async function shot(page: Page, url: string, name: string): Promise<void> {
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res || res.status() >= 400) throw new Error(`${url} answered ${res?.status()}`);
  // "Styled" means kassa.css applied: the top bar has its background and the body our font stack.
  const styled = await page.evaluate(() => getComputedStyle(document.querySelector('.topbar')!).backgroundColor !== 'rgba(0, 0, 0, 0)');
  const errorPage = await page.locator('.error-page').count();
  if (!styled || errorPage > 0) throw new Error(`${url} did not render properly (styled=${styled}, error page=${errorPage > 0})`);
  // SHOTS=name,name writes only those (the others stay as committed).
  const only = process.env.SHOTS?.split(',');
  if (!only || only.includes(name)) await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
