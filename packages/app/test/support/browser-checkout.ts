import type { Browser, Page } from 'playwright-core';

/**
 * A buyer in Chromium from the event page to the confirm page: one ticket, an email, the given
 * payment method. The caller places the order (and waits for what its provider does next).
 */
export async function checkoutToConfirm(browser: Browser, eventUrl: string, provider: string, email = 'ada@example.org'): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(eventUrl);
  await page.locator('input[id^=qty_]').first().fill('1');
  await page.getByRole('button', { name: 'Continue to checkout' }).click();
  await page.waitForURL(/checkout\/contact$/);
  await page.fill('#email', email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/checkout\/payment$/);
  await page.check(`input[name=provider][value=${provider}]`);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/checkout\/confirm$/);
  return page;
}
