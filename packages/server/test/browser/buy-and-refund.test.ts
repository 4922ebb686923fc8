import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Order, OrderPayment, OrderRefund, Team, User } from '@kassa/core/host';
import { createShop, type ShopFixture, launchChromium } from '@kassa/testing';
import { hashPassword } from '../../src/auth/password';
import { createShopTestApp, enableManual, type ShopTestApp } from '../shop/shop-test-app';

/*
 * One buyer and one organizer in a real Chromium against the real app on the real PostgreSQL:
 * the buyer orders two tickets with the manual provider; the organizer logs in, marks the payment
 * paid and refunds part of it; the buyer's order page shows the result. Every main page is
 * screenshotted into a temp dir and checked to be a styled page, not an error page.
 */
let t: ShopTestApp;
let browser: Browser;
let baseUrl: string;
let shop: ShopFixture;
const shots = mkdtempSync(path.join(tmpdir(), 'kassa-shots-'));
const password = 'correct horse battery staple';

beforeAll(async () => {
  t = await createShopTestApp({ passwordLogN: 10 });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  shop = await createShop(t.db.dataSource, { price: 2500, quotaSize: 50 });
  await enableManual(t, shop.event);
  const user = await t.db.dataSource.getRepository(User).save({ email: 'organizer@example.org', name: 'Olga', passwordHash: await hashPassword(password, { logN: 10 }) });
  await t.db.dataSource.getRepository(Team).save({ organizerId: shop.organizer.id, name: 'Admins', isAdmin: true, members: [user] });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** Screenshot plus the checks that the page rendered: no error page, our stylesheet applied. */
async function shoot(page: Page, name: string): Promise<void> {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(statSync(file).size).toBeGreaterThan(5_000);
  expect(await page.locator('.error-page').count()).toBe(0);
  const style = await page.evaluate(() => {
    const body = getComputedStyle(document.body);
    return { font: body.fontFamily, background: body.backgroundColor };
  });
  // Chromium's default is a serif font on a transparent body; kassa.css sets a sans stack on #f6f7fb.
  expect(style.font).not.toMatch(/^"?Times/);
  expect(style.font).toContain('system-ui');
  expect(style.background).toBe('rgb(246, 247, 251)');
}

it('a buyer pays manually, the organizer marks it paid and refunds part of it', async () => {
  // --- the buyer -------------------------------------------------------------------------------
  const buyer = await browser.newPage();
  await buyer.goto(`${baseUrl}/${shop.organizer.slug}/${shop.event.slug}/`);
  await shoot(buyer, '01-event');
  await buyer.fill(`#qty_${shop.product.id}`, '2');
  await buyer.getByRole('button', { name: 'Continue to checkout' }).click();
  await buyer.waitForURL(/checkout\/contact$/);
  await buyer.fill('#email', 'ada@example.org');
  await buyer.getByRole('button', { name: 'Continue' }).click();
  await buyer.waitForURL(/checkout\/payment$/);
  await shoot(buyer, '02-payment');
  await buyer.getByRole('button', { name: 'Continue' }).click();
  await buyer.waitForURL(/checkout\/confirm$/);
  await shoot(buyer, '03-confirm');
  await buyer.getByTestId('place-order').click();
  await buyer.waitForURL(/\/order\/[A-Z0-9]+\/[^/]+\/$/);
  await shoot(buyer, '04-order-pending');
  expect(await buyer.getByTestId('order-status').textContent()).toContain('Awaiting payment');
  expect(await buyer.locator('.payment-pending').textContent()).toContain('Bring cash to the box office');
  const orderPageUrl = buyer.url();

  const order = await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id });
  expect(order.total).toBe(5000);

  // --- the organizer ---------------------------------------------------------------------------
  const organizer = await (await browser.newContext()).newPage();
  await organizer.goto(`${baseUrl}/control/login`);
  await shoot(organizer, '05-login');
  await organizer.fill('#email', 'organizer@example.org');
  await organizer.fill('#password', password);
  await organizer.getByRole('button', { name: 'Log in' }).click();
  await organizer.waitForURL((url) => !url.pathname.startsWith('/control/login'));
  await organizer.goto(`${baseUrl}/control/orders`);
  await shoot(organizer, '06-orders');
  await organizer.getByRole('link', { name: order.code }).click();
  await organizer.waitForURL(new RegExp(`/control/orders/${order.id}$`));
  await shoot(organizer, '07-order-detail');

  await organizer.getByRole('button', { name: 'Mark as paid' }).click();
  await organizer.waitForLoadState();
  await expectState(() => t.db.dataSource.manager.findOneByOrFail(Order, { id: order.id }).then((o) => o.status), 'paid');
  const payment = await t.db.dataSource.manager.findOneByOrFail(OrderPayment, { orderId: order.id });
  expect(payment.state).toBe('confirmed');

  await organizer.getByRole('link', { name: 'Refund…' }).click();
  await organizer.fill('#f-amount', '10.00');
  await organizer.getByRole('button', { name: 'Propose a split' }).click();
  await organizer.waitForURL(/refund\?amount=10.00/);
  await shoot(organizer, '08-refund-form');
  await organizer.getByRole('button', { name: 'Refund', exact: true }).click();
  await organizer.waitForURL(new RegExp(`/control/orders/${order.id}$`));
  // A manual refund is booked, then the organizer pays it out and marks it done.
  const markDone = organizer.getByRole('button', { name: 'Mark as done' });
  if (await markDone.count()) {
    await markDone.click();
    await organizer.waitForLoadState();
  }
  await shoot(organizer, '09-order-refunded');
  const refunds = await t.db.dataSource.manager.findBy(OrderRefund, { orderId: order.id });
  expect(refunds.map((r) => [r.amount, r.state, r.provider])).toEqual([[1000, 'done', 'manual']]);

  // --- the buyer sees it -----------------------------------------------------------------------
  await buyer.goto(orderPageUrl);
  await shoot(buyer, '10-order-after-refund');
  const summary = (await buyer.locator('tfoot').textContent()) ?? '';
  expect(summary.replace(/\s+/g, '')).toContain('Refunded€10.00');
  expect(summary).toContain('€50.00');
  // As in pretix, a refund that leaves money owed sets the paid order back to pending (the
  // refund form's default; "stays paid" is refused while money is owed): the rest is to pay.
  expect(summary.replace(/\s+/g, '')).toContain('Stilltopay€10.00');
  expect(await buyer.getByTestId('order-status').textContent()).toContain('Awaiting payment');
});

async function expectState<T>(read: () => Promise<T>, expected: T): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await read()) === expected) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(await read()).toBe(expected);
}
