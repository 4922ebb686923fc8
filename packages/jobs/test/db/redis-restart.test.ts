import {
  count, createEffectTable, createTestDatabase, insertEvents, isolatedBackend, recordingHandler, RuntimeTracker, testConfig,
  uuids, waitFor, type TestDatabase,
} from '../support/harness';
import { PrivateRedis } from '../support/private-redis';
import type { EventHandler } from '../../src/outbox/event-handler';

let db: TestDatabase;
const tracker = new RuntimeTracker();
// Not the shared Redis on 6379: this test restarts its server.
const redis = new PrivateRedis(6390 + Math.floor(Math.random() * 50));

beforeAll(async () => {
  db = await createTestDatabase();
  await createEffectTable(db.dataSource);
  await redis.start();
});
afterAll(async () => {
  await tracker.cleanup();
  await redis.destroy();
  await db.destroy();
});

describe('Redis restarted while jobs are queued', () => {
  it('loses nothing: queued jobs survive the restart, and processing resumes across a restart in the middle', async () => {
    const config = testConfig(isolatedBackend('redis', db.url, redis.url));
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
    expect(await rt.queues.events.getWaitingCount()).toBe(200);

    await redis.restart();
    await rt.start({ schedulers: false });
    await waitFor('the 200 queued events to be handled', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) === 200);

    // Now restart while the relay and the workers are busy with the next 300.
    await insertEvents(db.dataSource, 300, orders, 'test.later');
    await waitFor('processing to be under way', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) > 300);
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
});
