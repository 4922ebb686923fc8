import { isKassaError } from '@kassa/core/host';
import { defineJobsConfig, loadJobsConfig } from '../../src/config';

const pg = { kind: 'postgres', url: 'postgres://postgres@127.0.0.1/test', schema: 'bullmq', poolSize: 3 } as const;

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isKassaError(err, 'CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected a CONFIG_INVALID refusal');
}

describe('jobs configuration', () => {
  it('uses Redis when REDIS_URL is set, otherwise BullMQ\'s PostgreSQL backend on the main database', () => {
    expect(loadJobsConfig({ REDIS_URL: 'redis://cache:6379/2', DATABASE_URL: 'postgres://db/kassa' }).backend)
      .toEqual({ kind: 'redis', url: 'redis://cache:6379/2', prefix: 'kassa' });
    expect(loadJobsConfig({ DATABASE_URL: 'postgres://db/kassa' }).backend)
      .toEqual({ kind: 'postgres', url: 'postgres://db/kassa', schema: 'bullmq', poolSize: 3 });
  });

  it('runs on the embedded database with one connection per pool when DATABASE_URL is unset', () => {
    expect(loadJobsConfig({}, 'postgres://127.0.0.1:54329/postgres').backend)
      .toEqual({ kind: 'postgres', url: 'postgres://127.0.0.1:54329/postgres', schema: 'bullmq', poolSize: 1 });
  });

  it('links to the server\'s BASE_URL', () => {
    expect(loadJobsConfig({ DATABASE_URL: 'postgres://db/k', BASE_URL: 'https://tickets.example.org/' }).publicUrl).toBe('https://tickets.example.org');
    expect(loadJobsConfig({ DATABASE_URL: 'postgres://db/k' }).publicUrl).toBe('http://127.0.0.1:3000');
  });

  it('stores emails unless SMTP_URL is set, and is frozen', () => {
    const stored = loadJobsConfig({ DATABASE_URL: 'postgres://db/kassa' });
    expect(stored.smtpUrl).toBeNull();
    expect(Object.isFrozen(stored) && Object.isFrozen(stored.retry) && Object.isFrozen(stored.backend)).toBe(true);
    expect(loadJobsConfig({ DATABASE_URL: 'postgres://db/kassa', SMTP_URL: 'smtp://u:p@mail:587' }).smtpUrl).toBe('smtp://u:p@mail:587');
  });

  it('refuses what it cannot use, naming the setting', () => {
    expect(refusal(() => loadJobsConfig({}))).toMatch(/neither REDIS_URL nor DATABASE_URL/);
    expect(refusal(() => loadJobsConfig({ REDIS_URL: 'http://cache' }))).toMatch(/REDIS_URL must start with redis:\/\//);
    expect(refusal(() => loadJobsConfig({ DATABASE_URL: 'postgres://db/k', SMTP_URL: 'mail.example' }))).toMatch(/SMTP_URL/);
    expect(refusal(() => loadJobsConfig({ DATABASE_URL: 'postgres://db/k', BASE_URL: 'shop.example' }))).toMatch(/BASE_URL/);
    expect(refusal(() => defineJobsConfig({ backend: { ...pg, schema: 'Drop Table' } }))).toMatch(/jobs schema "Drop Table"/);
    expect(refusal(() => defineJobsConfig({ backend: pg, retry: { attempts: 0 } }))).toMatch(/retry\.attempts must be a positive integer, got 0/);
    expect(refusal(() => defineJobsConfig({ backend: pg, worker: { concurrency: 1.5 } }))).toMatch(/worker\.concurrency/);
    expect(refusal(() => defineJobsConfig({ backend: pg, colour: 'blue' } as never))).toMatch(/unknown jobs setting "colour"/);
  });

  it('waits 15 minutes before a "please complete your payment" email unless KASSA_ACTION_EMAIL_DELAY_SECONDS says otherwise', () => {
    expect(loadJobsConfig({ DATABASE_URL: 'postgres://db/k' }).emails.actionRequiredDelayMs).toBe(900_000);
    expect(loadJobsConfig({ DATABASE_URL: 'postgres://db/k', KASSA_ACTION_EMAIL_DELAY_SECONDS: '60' }).emails.actionRequiredDelayMs).toBe(60_000);
    expect(loadJobsConfig({ DATABASE_URL: 'postgres://db/k', KASSA_ACTION_EMAIL_DELAY_SECONDS: '0' }).emails.actionRequiredDelayMs).toBe(0);
    expect(refusal(() => loadJobsConfig({ DATABASE_URL: 'postgres://db/k', KASSA_ACTION_EMAIL_DELAY_SECONDS: '15m' }))).toMatch(/KASSA_ACTION_EMAIL_DELAY_SECONDS must be a whole number of seconds/);
    expect(refusal(() => defineJobsConfig({ backend: pg, emails: { actionRequiredDelayMs: -1 } }))).toMatch(/emails\.actionRequiredDelayMs/);
  });
});
