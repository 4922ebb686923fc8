import type { Browser } from 'playwright-core';
import { Team, User } from '@kassa/core/host';
import { createShop, launchChromium, type ShopFixture } from '@kassa/testing';
import { hashPassword } from '../../src/auth/password';
import { createShopTestApp, type ShopTestApp } from '../shop/shop-test-app';

/*
 * Teams in a real Chromium: an admin creates a view-only team and invites a colleague; the
 * colleague opens the link in another browser, creates a login and lands in the panel, where the
 * orders are visible and the payment settings are not; the link then no longer works.
 */
let t: ShopTestApp;
let browser: Browser;
let baseUrl: string;
let shop: ShopFixture;
const password = 'correct horse battery staple';

beforeAll(async () => {
  t = await createShopTestApp({ passwordLogN: 10 });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  shop = await createShop(t.db.dataSource, { price: 2500, quotaSize: 50 });
  const user = await t.db.dataSource.getRepository(User).save({ email: 'lead@example.org', name: 'Lea', passwordHash: await hashPassword(password, { logN: 10 }) });
  await t.db.dataSource.getRepository(Team).save({ organizerId: shop.organizer.id, name: 'Admins', isAdmin: true, members: [user] });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

it('an admin invites a colleague into a view-only team; the colleague joins with a new login', async () => {
  const admin = await browser.newPage();
  await admin.goto(`${baseUrl}/control/login`);
  await admin.fill('#email', 'lead@example.org');
  await admin.fill('#password', password);
  await Promise.all([admin.waitForURL(/\/control$/), admin.click('button[type=submit]')]);
  await admin.click('nav >> text=Teams');
  await admin.click('text=New team');
  await admin.fill('#f-name', 'Box office');
  await admin.check('input[name=all_events]');
  await admin.check('input[name=can_view_orders]');
  await Promise.all([admin.waitForURL(/\/control\/teams\/[0-9a-f-]{36}$/), admin.click('form.stack button[type=submit]')]);
  await admin.fill('#f-email', 'colleague@example.org');
  await Promise.all([admin.waitForURL(/\/control\/teams\/[0-9a-f-]{36}$/), admin.click('form.row button[type=submit]')]);
  const link = baseUrl + new URL((await admin.locator('#invite-link .token-once').textContent())!.trim()).pathname;
  expect(link).toMatch(/\/control\/invite\/[A-Za-z0-9_-]{43}$/);

  const context = await browser.newContext();
  const colleague = await context.newPage();
  await colleague.goto(link);
  await colleague.fill('#f-name', 'Colleague');
  await colleague.fill('#f-password', 'a long enough password');
  await Promise.all([colleague.waitForURL(/\/control(\/orders)?$/), colleague.click('button[type=submit]')]);
  await colleague.goto(`${baseUrl}/control/orders`);
  expect(await colleague.locator('h1').first().textContent()).toContain('Orders');
  expect(await colleague.locator('nav a[href="/control/settings/payment"]').count()).toBe(0);
  const settings = await colleague.goto(`${baseUrl}/control/settings/payment`);
  expect(settings?.status()).toBe(404);
  const again = await colleague.goto(link);
  expect(again?.status()).toBe(404);
  await context.close();

  // The admin sees the new member in the team.
  await admin.reload();
  expect(await admin.locator('text=colleague@example.org').count()).toBeGreaterThan(0);
});
