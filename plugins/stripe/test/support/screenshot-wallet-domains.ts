/**
 * The screenshot of the wallet domain page for docs/organizer-guide.md (docs/images/control-wallet-domains.png):
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx plugins/stripe/test/support/screenshot-wallet-domains.ts
 *
 * The real server with the emulator as Stripe; the instance's own domain serves the association
 * file, a custom shop domain does not reach Kassa yet, so the page shows both states.
 */
import path from 'node:path';
import { createServer } from 'node:net';
import { globalSettings } from '@kassa/core/host';
import { chromiumArgs } from '@kassa/testing';
import { chromium } from 'playwright-core';
import { STRIPE_NAMESPACE } from '../../src';
import { createServerHarness, type ServerHarness } from './server-harness';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const port = await freePort();
  const h: ServerHarness = await createServerHarness({
    baseUrl: `http://tickets.example-festival.test:${port}`,
    applePayDomainAssociation: 'association',
    emulator: (app) => ({
      fetchDomainFile: async (url) => {
        const u = new URL(url);
        if (u.hostname !== 'tickets.example-festival.test') return { status: 404, body: '' };
        const res = await app().inject({ method: 'GET', url: u.pathname, headers: { host: u.hostname } });
        return { status: res.statusCode, body: res.body };
      },
    }),
  });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: [...chromiumArgs] });
  try {
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: ['shop.example-festival.test'] });
    await h.app.listen({ host: '127.0.0.1', port });
    const { cookie, csrf } = await h.signIn(h.shop.organizer.id);
    const checked = await h.app.inject({
      method: 'POST', url: '/plugins/stripe/control/wallet-domains/check',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${encodeURIComponent(csrf)}`,
    });
    if (checked.statusCode !== 303) throw new Error(`check again answered ${checked.statusCode}`);
    const context = await browser.newContext({ viewport: { width: 960, height: 800 } });
    await context.addCookies(cookie.split('; ').map((c) => {
      const [name, ...value] = c.split('=');
      return { name: name as string, value: value.join('='), domain: '127.0.0.1', path: '/' };
    }));
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/plugins/stripe/control/wallet-domains`);
    await page.waitForSelector('[data-wallet="apple_pay"]');
    const styled = await page.evaluate(() => getComputedStyle(document.body).fontFamily !== 'Times New Roman' && !!document.querySelector('link[rel=stylesheet]'));
    if (!styled) throw new Error('the page rendered without its stylesheet');
    const out = path.resolve(__dirname, '../../../../docs/images/control-wallet-domains.png');
    await page.screenshot({ path: out, fullPage: true });
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await browser.close();
    await h.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
