/**
 * Screenshots of the webhook pages and a readable order log for docs/organizer-guide.md, written
 * to docs/images/control-webhook*.png and control-order-log.png.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/app/scripts/screenshots-webhooks.ts
 *
 * Like screenshots.ts: the real app on a fresh schema, the demo seed, Chromium. The deliveries
 * are real: a jobs runtime (Redis at REDIS_URL, default 127.0.0.1:6379) sends them to a small
 * receiver on a loopback port that accepts the first and refuses the second.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import {
  createDataSource, createKassaCore, createProviderContextFactory, loadPlugins, runMigrations, SettingsStore, systemClock, WebhookService,
} from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger } from '@kassa/jobs';
import { buildApp, shopMigrations } from '@kassa/server';
import { seedDemo } from '../src/seed/demo-seed';

const outDir = path.resolve(__dirname, '../../../docs/images');

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `shots_${randomBytes(4).toString('hex')}`;
  const dataSource = createDataSource({ url, schema, migrations: [...shopMigrations], poolSize: 5 });
  await dataSource.initialize();
  await dataSource.query(`CREATE SCHEMA ${schema}`);
  let answered = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      answered += 1;
      res.statusCode = answered === 1 ? 200 : 503;
      res.end(answered === 1 ? '{"received":true}' : 'Service Unavailable');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const jobs = { stop: async () => undefined, destroyBackend: async () => undefined } as { stop(): Promise<void>; destroyBackend(): Promise<void> };
  try {
    await runMigrations(dataSource);
    const loaded = loadPlugins([], { clock: systemClock });
    const secretKey = randomBytes(32);
    const settings = new SettingsStore(dataSource, { schemas: loaded.settingsSchemas, secretKey });
    const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock: systemClock, baseUrl: 'http://127.0.0.1' });
    const core = createKassaCore({ dataSource, providers: loaded.providers, providerContext, clock: systemClock });
    const seed = await seedDemo(dataSource, settings);
    const service = new WebhookService({ dataSource, secretKey, allowPrivateAddresses: true });
    const runtime = await createJobsRuntime({
      dataSource, logger: silentLogger, withoutEmailHandlers: true, webhooks: { service },
      config: defineJobsConfig({
        backend: { kind: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `shots${randomBytes(4).toString('hex')}` },
        retry: { attempts: 2, backoffMs: 50 }, worker: { relayPollMs: 50 },
      }),
    });
    Object.assign(jobs, { stop: () => runtime.stop(), destroyBackend: () => runtime.destroyBackend() });
    await runtime.start({ schedulers: false });

    const organizerId = (await dataSource.query("SELECT id FROM organizer WHERE slug = 'demo'"))[0].id as string;
    const { endpoint } = await service.create(organizerId, {
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/kassa-hook`, eventTypes: ['order.placed', 'order.paid'], comment: 'ERP',
    });
    const event = (await dataSource.query("SELECT id FROM event WHERE slug = 'summer-fest'"))[0].id as string;
    const product = (await dataSource.query('SELECT id FROM product WHERE event_id = $1 ORDER BY position LIMIT 1', [event]))[0].id as string;
    const placed = await core.orders.placeOrder({ eventId: event, email: 'alex@example.com', provider: 'manual', positions: [{ productId: product }] });
    await core.payments.manualConfirm(placed.payment!.id, { actor: { type: 'system' } });
    await core.refunds.createRefund(placed.order.id, { paymentId: placed.payment!.id, amount: { amount: 700, currency: 'EUR' }, source: 'admin', provider: 'manual', actor: { type: 'system' } });
    for (let i = 0; i < 200; i++) {
      const rows = await service.deliveries(organizerId, endpoint.id);
      if (rows.length === 2 && rows.every((d) => d.state !== 'queued')) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const app = await buildApp({
      dataSource, clock: systemClock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
      config: { baseUrl: 'http://127.0.0.1', sessionSecret: randomBytes(32).toString('hex') },
      webhooks: { service, enqueue: (d, n) => runtime.enqueueWebhookDeliveries(d, n) },
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await mkdir(outDir, { recursive: true });
    await page.goto(`${address}/control/login`);
    await page.fill('#email', seed.login!.email);
    await page.fill('#password', seed.login!.password);
    await Promise.all([page.waitForURL(/\/control$/), page.click('button[type=submit]')]);
    await shot(page, `${address}/control/webhooks/${endpoint.id}`, 'control-webhook');
    const failed = (await service.deliveries(organizerId, endpoint.id)).find((d) => d.state === 'undeliverable') ?? (await service.deliveries(organizerId, endpoint.id))[0]!;
    await shot(page, `${address}/control/webhooks/${endpoint.id}/deliveries/${failed.id}`, 'control-webhook-delivery');
    await shot(page, `${address}/control/orders/${placed.order.id}`, 'control-order-log');
    await app.close();
    process.stdout.write(`Screenshots written to ${outDir}\n`);
  } finally {
    await jobs.stop();
    await jobs.destroyBackend();
    await browser.close();
    await new Promise((r) => receiver.close(r));
    await dataSource.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await dataSource.destroy();
  }
}

async function shot(page: Page, url: string, name: string): Promise<void> {
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res || res.status() >= 400) throw new Error(`${url} answered ${res?.status()}`);
  const styled = await page.evaluate(() => getComputedStyle(document.querySelector('.topbar')!).backgroundColor !== 'rgba(0, 0, 0, 0)');
  if (!styled || (await page.locator('.error-page').count()) > 0) throw new Error(`${url} did not render properly`);
  await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
