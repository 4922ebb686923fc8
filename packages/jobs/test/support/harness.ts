import { randomBytes } from 'node:crypto';
import type { DataSource } from '@kassa/core/host';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import { defineJobsConfig, type JobsBackendConfig, type JobsConfig, type RetrySettings, type WorkerSettings } from '../../src/config';
import { silentLogger } from '../../src/context';
import type { EventHandler } from '../../src/outbox/event-handler';
import { createJobsRuntime, type JobsRuntime, type JobsRuntimeOptions } from '../../src/runtime';

export type BackendKind = JobsBackendConfig['kind'];

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A backend config private to one test: its own Redis prefix or PostgreSQL schema. */
export function isolatedBackend(kind: BackendKind, dbUrl: string, url = redisUrl): JobsBackendConfig {
  const tag = randomBytes(5).toString('hex');
  return kind === 'redis'
    ? { kind: 'redis', url, prefix: `kt${tag}` }
    : { kind: 'postgres', url: dbUrl, schema: `bq_${tag}`, poolSize: 3 };
}

/** Fast retries and stall detection, so failure paths run in seconds. */
export const fastRetry: Partial<RetrySettings> = { attempts: 3, backoffMs: 50 };
export const fastWorker: Partial<WorkerSettings> = { relayPollMs: 50, orderWaitMs: 50, lockDurationMs: 2_000, stalledIntervalMs: 1_000 };

export function testConfig(backend: JobsBackendConfig, overrides: { smtpUrl?: string | null; retry?: Partial<RetrySettings>; worker?: Partial<WorkerSettings> } = {}): JobsConfig {
  return defineJobsConfig({
    backend,
    smtpUrl: overrides.smtpUrl ?? null,
    mailFrom: 'Kassa Test <noreply@kassa.test>',
    publicUrl: 'https://shop.kassa.test',
    retry: { ...fastRetry, ...overrides.retry },
    worker: { ...fastWorker, ...overrides.worker },
  });
}

/** Runtimes created in a test file, stopped and wiped in afterAll/afterEach. */
export class RuntimeTracker {
  private readonly runtimes: JobsRuntime[] = [];

  async create(opts: Omit<JobsRuntimeOptions, 'logger'> & { logger?: JobsRuntimeOptions['logger'] }): Promise<JobsRuntime> {
    const rt = await createJobsRuntime({ logger: silentLogger, ...opts });
    this.runtimes.push(rt);
    return rt;
  }

  async cleanup(): Promise<void> {
    for (const rt of this.runtimes.splice(0)) {
      await rt.stop();
      await rt.destroyBackend();
    }
  }
}

/** A table handlers write their effect to, without a unique key: a duplicate effect shows as a second row. */
export async function createEffectTable(ds: DataSource): Promise<void> {
  await ds.query(`CREATE TABLE IF NOT EXISTS test_effect (seq bigserial PRIMARY KEY, handler text NOT NULL, event_id bigint NOT NULL, order_id uuid)`);
}

/** A handler whose effect is one row in test_effect per (handler, event). */
export function recordingHandler(name = 'test.record', topics: string[] = ['*']): EventHandler {
  return {
    name,
    topics,
    async apply(tx, event) {
      await tx.query(`INSERT INTO test_effect (handler, event_id, order_id) VALUES ($1, $2, $3)`, [name, event.id, event.orderId]);
    },
  };
}

/** Inserts `count` events in one statement; event i belongs to order i % orders.length. */
export async function insertEvents(ds: DataSource, count: number, orders: readonly string[], topic = 'test.happened'): Promise<void> {
  await ds.query(
    `INSERT INTO outbox_event (topic, order_id, payload)
     SELECT $1, ($2::uuid[])[1 + (i % cardinality($2::uuid[]))], jsonb_build_object('i', i)
       FROM generate_series(0, $3 - 1) AS i`,
    [topic, orders, count],
  );
}

export function uuids(n: number): string[] {
  return Array.from({ length: n }, () => crypto.randomUUID());
}

/** Polls until `check` returns true; fails with `what` after the timeout. Never asserts on time itself. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function count(ds: DataSource, sql: string, params: unknown[] = []): Promise<number> {
  const [row]: { n: string }[] = await ds.query(sql, params);
  return Number(row?.n ?? 0);
}

export { createTestDatabase, type TestDatabase };
