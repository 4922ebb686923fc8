import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { globalSettings, parseConfig, type AppConfig } from '@kassa/core/host';
import { silentLogger } from '@kassa/jobs';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import { startKassa } from '../../src/start-kassa';

/*
 * startKassa across restarts on one database: the embedded Stripe settings follow the fresh
 * emulator, the demo is seeded once, and Stripe keys someone configured globally are never replaced.
 */
let db: TestDatabase;
let config: AppConfig;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-boot-'));
const opts = { inProcessJobs: false, embeddedDefaults: true, passwordLogN: 10, jobsLogger: silentLogger };

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
  config = parseConfig({
    DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_JOBS_SCHEMA: `${db.schema}_jobs`, HOST: '127.0.0.1', PORT: 0,
    KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
  });
});

afterAll(async () => {
  // BullMQ's tables (PostgreSQL backend) live in their own schema beside the test schema.
  await db?.dataSource.query(`DROP SCHEMA IF EXISTS "${db.schema}_jobs" CASCADE`);
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

it('points Stripe at each start\'s emulator, seeds once, and leaves keys configured by someone else alone', async () => {
  const first = await startKassa(config, opts);
  let firstEmulatorUrl: string;
  try {
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.url).not.toMatch(/:0$/);
    // The Stripe plugin's embeddedDefault hook ran and pointed the global settings at a fresh emulator.
    expect(first.embeddedDefaults).toEqual(['stripe']);
    const stripe = await first.kassa.settings.resolve(globalSettings, 'payment.stripe');
    firstEmulatorUrl = String(stripe.apiBase);
    expect(firstEmulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stripe).toMatchObject({ _enabled: true, apiBase: firstEmulatorUrl, stripeJsUrl: `${firstEmulatorUrl}/v3/`, secretKey: expect.stringMatching(/^sk_test_/) });
    // The webhook endpoint was created at the emulator and its secret stored on its row, for its account only.
    expect(await first.kassa.dataSource.query('SELECT scope FROM stripe_webhook_endpoint WHERE secret IS NOT NULL')).toEqual([{ scope: 'global' }]);
    expect(stripe).not.toHaveProperty('webhookSecrets');
    expect(first.login).toMatchObject({ email: 'demo@kassa.local' });
    // On a DATABASE_URL the demo login is no instance operator (only the embedded default's is).
    expect(await first.kassa.dataSource.query('SELECT is_operator FROM app_user')).toEqual([{ is_operator: false }]);
  } finally {
    await first.close();
  }
  // Shutdown closed what the hook started: the emulator answers no more.
  await expect(fetch(`${firstEmulatorUrl}/v3/`)).rejects.toThrow();

  const second = await startKassa(config, opts);
  try {
    expect(second.embeddedDefaults).toEqual(['stripe']);
    const { apiBase } = await second.kassa.settings.resolve(globalSettings, 'payment.stripe');
    expect(apiBase).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(apiBase).not.toBe(firstEmulatorUrl);
    expect((await fetch(`${String(apiBase)}/v3/`)).ok).toBe(true);
    expect(Number((await second.kassa.dataSource.query('SELECT count(*)::int AS n FROM organizer'))[0].n)).toBe(1);
    // The login printed on first start is read back from the data directory.
    expect(second.login).toEqual(first.login);
    await second.kassa.settings.set(globalSettings, 'payment.stripe', { secretKey: 'sk_test_configuredByAnAdmin', apiBase: null, stripeJsUrl: null });
  } finally {
    await second.close();
  }

  const third = await startKassa(config, opts);
  try {
    expect(third.embeddedDefaults).toEqual([]);
    const stripe = await third.kassa.settings.resolve(globalSettings, 'payment.stripe');
    expect(stripe.secretKey).toBe('sk_test_configuredByAnAdmin');
    expect(stripe.apiBase || null).toBeNull();
  } finally {
    await third.close();
  }

  // The operator's configuration: written at the global level at start, instance-only keys included.
  const configured = parseConfig({
    ...config, PORT: 0, BASE_URL: undefined,
    KASSA_INSTANCE_SETTINGS: JSON.stringify({ 'payment.stripe': { secretKey: 'sk_test_fromTheConfiguration', publishableKey: 'pk_test_fromTheConfiguration', stripeJsUrl: 'https://js.stripe.com/v3/', apiBase: null } }),
  });
  const fourth = await startKassa(configured, opts);
  try {
    expect(fourth.embeddedDefaults).toEqual([]);
    expect(await fourth.kassa.settings.resolve(globalSettings, 'payment.stripe')).toMatchObject({
      secretKey: 'sk_test_fromTheConfiguration', publishableKey: 'pk_test_fromTheConfiguration', stripeJsUrl: 'https://js.stripe.com/v3/', apiBase: '',
    });
  } finally {
    await fourth.close();
  }
  // A configuration naming a namespace no plugin declares stops the start.
  await expect(startKassa(parseConfig({ ...config, PORT: 0, BASE_URL: undefined, KASSA_INSTANCE_SETTINGS: '{"payment.nope": {}}' }), opts))
    .rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/payment\.nope/) });
});
