import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig, type AppConfig } from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger, type JobsRuntime } from '@kassa/jobs';
import { composeKassa, startKassa, type KassaComposition, type RunningKassa } from '../../src';
import { createApiToken } from '@kassa/server';
import { Buyer } from '../support/buyer';
import { PrivatePostgres } from '../support/private-postgres';

/*
 * A PostgreSQL restart under a running server and a running worker (its own composition and
 * pools, the jobs on BullMQ's PostgreSQL backend in the same cluster): requests during the outage
 * answer 503 at once instead of hanging, nothing committed is lost, and both recover without a
 * restart: orders are placed again, the outbox keeps delivering, the worker keeps processing.
 * A private cluster (initdb, own port): the shared PostgreSQL is never restarted.
 */
const pg = new PrivatePostgres(15_432 + Math.floor(Math.random() * 500));
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-pgrestart-'));
let config: AppConfig;
let server: RunningKassa;
let workerKassa: KassaComposition;
let worker: JobsRuntime;
let token: string;

beforeAll(async () => {
  await pg.init();
  config = parseConfig({
    DATABASE_URL: pg.url, HOST: '127.0.0.1', PORT: 0, KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
  });
  server = await startKassa(config, { inProcessJobs: false, embeddedDefaults: false, passwordLogN: 10, jobsLogger: silentLogger });
  // The worker: a composition of its own (as `pnpm worker` has), quick to poll and to retry.
  workerKassa = await composeKassa(config);
  worker = await createJobsRuntime({
    dataSource: workerKassa.dataSource, services: workerKassa.core, plugins: workerKassa.loaded.plugins, pluginHost: workerKassa.pluginHost,
    logger: silentLogger,
    config: defineJobsConfig({
      backend: { kind: 'postgres', url: pg.url, schema: 'bullmq', poolSize: 3 },
      retry: { attempts: 8, backoffMs: 200 },
      worker: { relayPollMs: 100, orderWaitMs: 100, strandedAfterMs: 2_000, lockDurationMs: 5_000, stalledIntervalMs: 2_000 },
    }),
  });
  await worker.start();
  const [organizer] = await server.kassa.dataSource.query('SELECT id FROM organizer');
  ({ token } = await createApiToken(server.kassa.dataSource, organizer.id, 'restart-test'));
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await workerKassa?.close();
  await server?.close();
  await pg.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The buyer flow through HTTP: cart, contact, payment (manual), confirm; returns the order's code. */
let lastOrderPage = '';
async function placeOrder(email: string): Promise<string> {
  const buyer = new Buyer(server.app);
  const base = server.eventPath;
  await buyer.get(base);
  const productId = /name="qty_([0-9a-f-]{36})"/.exec(buyer.lastPage)![1]!;
  // Each step's page is loaded as a browser would, for its form's CSRF and idempotency tokens.
  await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${productId}`]: 1 }));
  await buyer.follow(await buyer.post(`${base}checkout/contact`, { email }));
  await buyer.follow(await buyer.post(`${base}checkout/payment`, { provider: 'manual' }));
  const placed = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });
  if (placed.statusCode !== 303) throw new Error(`placing an order answered ${placed.statusCode}: ${placed.body.slice(0, 2000)}`);
  lastOrderPage = String(placed.headers.location);
  return /\/order\/([A-Z0-9]+)\//.exec(lastOrderPage)![1]!;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // the database may still be coming back
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ds = () => server.kassa.dataSource;
const undelivered = async () => Number((await ds().query(
  `SELECT count(*)::int AS n FROM outbox_event e WHERE NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.event_id = e.id AND d.state = 'done')`))[0].n);
const emailsFor = async (code: string) => Number((await ds().query(
  `SELECT count(*)::int AS n FROM email_message m JOIN kassa_order o ON o.id = m.order_id WHERE o.code = $1`, [code]))[0].n);

it('answers 503 during the outage, loses nothing, and server and worker carry on after the restart without being restarted', async () => {
  const before = await placeOrder('before@example.test');
  await waitFor('the first order\'s events to be delivered and its email stored', async () => (await undelivered()) === 0 && (await emailsFor(before)) > 0);

  await pg.stop();
  // During the outage: a clean 503 (a catalogued error, Retry-After), at once rather than hanging.
  const api = await server.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { authorization: `Bearer ${token}` } });
  expect(api.statusCode).toBe(503);
  expect(api.json()).toMatchObject({ error: { code: 'DATABASE_UNAVAILABLE' } });
  expect(api.headers['retry-after']).toBeDefined();
  // The order page reads the order itself (the anonymous event page may come from its one-second cache).
  const shop = await server.app.inject({ method: 'GET', url: lastOrderPage, headers: { accept: 'text/html' } });
  expect(shop.statusCode).toBe(503);
  await pg.start();

  // Neither process was restarted: the pools reconnect on their own.
  let after = '';
  await waitFor('an order to be placed again', async () => {
    after = await placeOrder('after@example.test');
    return true;
  });
  await waitFor('every event of both orders to be delivered and the second order\'s email stored', async () =>
    (await undelivered()) === 0 && (await emailsFor(after)) > 0);

  // Nothing lost, nothing doubled.
  const orders: { code: string }[] = await ds().query('SELECT code FROM kassa_order ORDER BY created_at');
  expect(orders.map((o) => o.code)).toEqual([before, after]);
  expect(await emailsFor(before)).toBe(1);
  expect(await emailsFor(after)).toBe(1);
  const list = await server.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { authorization: `Bearer ${token}` } });
  expect(list.statusCode).toBe(200);
  expect(await worker.listFailedJobs()).toEqual([]);
}, 60_000);
