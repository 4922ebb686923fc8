import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '@kassa/core/host';
import type { JobsLogger } from '@kassa/jobs';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import { startKassa } from '../../src/start-kassa';

/*
 * An https BASE_URL with no trusted proxy: the Secure session cookie can never be set (Kassa serves
 * plain HTTP and believes no X-Forwarded-Proto), so every login would fail silently. The operator
 * is told at start-up, on the process's log, what to set.
 */
let db: TestDatabase;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-warn-'));

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
});
afterAll(async () => {
  await db?.dataSource.query(`DROP SCHEMA IF EXISTS "${db.schema}_jobs" CASCADE`);
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

function capture(): JobsLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, error: () => undefined, warn: (msg) => warnings.push(msg) };
}

async function start(extra: Record<string, string>) {
  const config = parseConfig({
    DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_JOBS_SCHEMA: `${db.schema}_jobs`, HOST: '127.0.0.1', PORT: 0,
    KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent', ...extra,
  });
  const logger = capture();
  const running = await startKassa(config, { inProcessJobs: false, embeddedDefaults: false, passwordLogN: 10, jobsLogger: logger });
  await running.close();
  return logger.warnings;
}

it('warns about an https BASE_URL with no trusted proxy, naming the key to set, and is quiet once a proxy is configured', async () => {
  const warned = await start({ BASE_URL: 'https://tickets.example.org' });
  expect(warned).toEqual([expect.stringContaining('KASSA_TRUSTED_PROXIES is not set')]);
  expect(warned[0]).toContain('every login fails');

  expect(await start({ BASE_URL: 'https://tickets.example.org', KASSA_TRUSTED_PROXIES: '127.0.0.1, ::1' })).toEqual([]);
  expect(await start({ BASE_URL: 'http://127.0.0.1:3999' })).toEqual([]);
});

it('refuses a malformed KASSA_TRUSTED_PROXIES at start, naming it', () => {
  expect(() => parseConfig({ KASSA_TRUSTED_PROXIES: 'proxy.example.org' })).toThrow(/KASSA_TRUSTED_PROXIES/);
  expect(parseConfig({ KASSA_TRUSTED_PROXIES: '10.0.0.0/8, loopback, fd00::/8' }).KASSA_TRUSTED_PROXIES).toBe('10.0.0.0/8, loopback, fd00::/8');
});
