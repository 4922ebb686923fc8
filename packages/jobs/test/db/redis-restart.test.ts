import {
  count, createEffectTable, createTestDatabase, insertEvents, isolatedBackend, recordingHandler, RuntimeTracker, testConfig,
  uuids, waitFor, type TestDatabase,
} from '../support/harness';
import { PrivateRedis } from '../support/private-redis';
import type { EventHandler } from '../../src/outbox/event-handler';

let db: TestDatabase;
const tracker = new RuntimeTracker();
// Not the shared Redis on 6379: this test restarts its servers.
const port = 6390 + Math.floor(Math.random() * 50);
const redis = new PrivateRedis(port);
const forgetful = new PrivateRedis(port + 50, false);

beforeAll(async () => {
  db = await createTestDatabase();
  await createEffectTable(db.dataSource);
  await redis.start();
  await forgetful.start();
});
afterEach(async () => {
  // Each test's runtime must be gone before the next one starts: it would relay the next test's events.
  await tracker.cleanup();
  await db.dataSource.query(`TRUNCATE outbox_event, test_effect RESTART IDENTITY CASCADE`);
});
afterAll(async () => {
  await redis.destroy();
  await forgetful.destroy();
  await db.destroy();
});

describe('Redis restarted while jobs are queued', () => {
  it('loses nothing: queued jobs survive the restart, and processing resumes across a restart in the middle', async () => {
    // Two jobs at a time: the relay puts several orders' events in one job, and the restart must
    // find jobs waiting besides the active ones.
    const config = testConfig(isolatedBackend('redis', db.url, redis.url), { worker: { concurrency: 2 } });
    // Holds the later events of the second batch until Redis has been restarted, so the restart
    // certainly happens with jobs active and waiting.
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const gated: EventHandler = {
      name: 'test.gate', topics: ['test.later'],
      afterCommit: async (event) => {
        if (Number(event.payload.i) >= 100) await gate;
      },
    };
    const rt = await tracker.create({ dataSource: db.dataSource, config, handlers: [recordingHandler(), gated], withoutEmailHandlers: true });
    // 200 orders: the relay queues one event per order at a time (the head of its line).
    const orders = uuids(200);
    await insertEvents(db.dataSource, 200, orders);
    expect(await rt.relay.drain()).toBe(200);
    // Several orders' heads to a job.
    const queued = (await rt.queues.events.getWaiting()).flatMap((j) => (j.data as { eventIds: string[] }).eventIds);
    expect(new Set(queued).size).toBe(200);

    await redis.restart();
    await rt.start({ schedulers: false });
    await waitFor('the 200 queued events to be handled', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) === 200);

    // Now restart while the relay and the workers are busy with the next 300.
    await insertEvents(db.dataSource, 300, orders, 'test.later');
    // Under way: later events recorded. Not many need be: a job runs its order's next event itself,
    // so the gate can hold every worker slot once each has met one event with i >= 100.
    await waitFor('processing to be under way', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) > 200);
    await waitFor('the gated jobs to be active', async () => (await rt.queues.events.getActiveCount()) > 0);
    expect(await rt.queues.events.getWaitingCount() + (await rt.queues.events.getDelayedCount())).toBeGreaterThan(0);
    await redis.restart();
    openGate();
    await waitFor('all 500 events to be handled', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) >= 500, 60_000);

    expect(await count(db.dataSource, `SELECT count(*) n FROM outbox_event WHERE relayed_at IS NULL`)).toBe(0);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(500);
    expect(await count(db.dataSource, `SELECT count(DISTINCT event_id) n FROM test_effect`)).toBe(500);
    expect(await rt.listFailedJobs()).toEqual([]);
  });

  it('re-enqueues relayed events whose jobs a Redis without persistence forgot, and handles each once', async () => {
    const config = testConfig(isolatedBackend('redis', db.url, forgetful.url), { worker: { strandedAfterMs: 300 } });
    const rt = await tracker.create({ dataSource: db.dataSource, config, handlers: [recordingHandler()], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, 60, uuids(30)); // 30 heads queued, 30 waiting behind them
    expect(await rt.relay.drain()).toBe(30);
    await forgetful.restart();
    expect(await rt.queues.events.getWaitingCount()).toBe(0); // the queued jobs are gone

    await rt.start({ schedulers: false });
    await waitFor('all 60 events to be handled', async () => (await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery WHERE state = 'done'`)) === 60);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(60);
    expect(await count(db.dataSource, `SELECT count(DISTINCT event_id) n FROM test_effect`)).toBe(60);
  });
});
