import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import type Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, stripeFor, withEmulator } from './helpers';

/**
 * The hosted Connect pages in Chromium (§9.2, §9.3): the OAuth authorize page (connect or deny)
 * and the Account Link onboarding page, where a test leaves a requirement out and finishes later.
 */
let emu: RunningEmulator;
let browser: Browser;
let platform: http.Server;
let platformUrl: string;
let key: string;
let stripe: Stripe;

beforeAll(async () => {
  emu = await withEmulator();
  // The platform's redirect/return pages just show where the browser arrived.
  platform = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><p id="arrived">${(req.url ?? '').replace(/[<&]/g, '')}</p>`);
  });
  await new Promise<void>((resolve) => platform.listen(0, '127.0.0.1', resolve));
  platformUrl = `http://127.0.0.1:${(platform.address() as AddressInfo).port}`;
  // The emulator's lint rule forbids @kassa/* imports (tests included), so not @kassa/testing's launchChromium: same flags.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => platform.close(() => resolve()));
  await emu.close();
});
beforeEach(() => {
  key = freshKey();
  stripe = stripeFor(emu, key);
});
afterEach(() => expect(emu.errors()).toEqual([]));

async function arrivedAt(page: import('playwright-core').Page): Promise<URLSearchParams> {
  await page.waitForSelector('#arrived');
  return new URL(page.url()).searchParams;
}

it('OAuth: connecting returns a code and the state, the token exchange yields the account; denying returns access_denied', async () => {
  const { clientId } = emu.keysFor(key);
  const authorize = `${emu.url}/oauth/authorize?response_type=code&client_id=${clientId}&scope=read_write&state=csrf-123&redirect_uri=${encodeURIComponent(`${platformUrl}/connected`)}`;
  const page = await browser.newPage();
  try {
    await page.goto(authorize);
    await page.click('#kassa-oauth-authorize');
    const ok = await arrivedAt(page);
    expect(ok.get('state')).toBe('csrf-123');
    const token = await stripe.oauth.token({ grant_type: 'authorization_code', code: ok.get('code') as string });
    expect(token.stripe_user_id).toMatch(/^acct_/);
    expect((await stripe.accounts.retrieve(token.stripe_user_id as string)).charges_enabled).toBe(true);

    await page.goto(authorize.replace('csrf-123', 'csrf-456'));
    await page.click('#kassa-oauth-deny');
    const denied = await arrivedAt(page);
    expect(Object.fromEntries(denied)).toMatchObject({ error: 'access_denied', state: 'csrf-456' });
    expect(denied.get('code')).toBeNull();
  } finally {
    await page.close();
  }
});

it('onboarding: a requirement left out keeps charges off; a fresh link to finish it enables them', async () => {
  const acct = await stripe.accounts.create({ type: 'express', country: 'DE', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
  const link = () => stripe.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url: `${platformUrl}/refresh`, return_url: `${platformUrl}/return` });
  const page = await browser.newPage();
  try {
    await page.goto((await link()).url);
    expect(await page.$$eval('#kassa-onboarding-requirements input', (xs) => xs.map((x) => x.getAttribute('data-requirement')))).toContain('external_account');
    await page.uncheck('input[data-requirement="external_account"]');
    await page.click('#kassa-onboarding-complete');
    await arrivedAt(page);
    expect(new URL(page.url()).pathname).toBe('/return');
    let a = await stripe.accounts.retrieve(acct.id);
    expect(a).toMatchObject({ charges_enabled: false, requirements: { past_due: ['external_account'] } });

    // The used link sends the buyer to refresh_url; a new link finishes onboarding.
    const used = (await link()).url;
    await page.goto(used);
    await page.goto(used);
    await arrivedAt(page);
    expect(new URL(page.url()).pathname).toBe('/refresh');
    await page.goto((await link()).url);
    expect(await page.$$eval('#kassa-onboarding-requirements input', (xs) => xs.map((x) => x.getAttribute('data-requirement')))).toEqual(['external_account']);
    await page.click('#kassa-onboarding-complete');
    await arrivedAt(page);
    a = await stripe.accounts.retrieve(acct.id);
    expect(a).toMatchObject({ charges_enabled: true, details_submitted: true, requirements: { currently_due: [], past_due: [] } });
    expect(a.external_accounts?.data).toHaveLength(1);
  } finally {
    await page.close();
  }
});
