import {
  count, createEffectTable, createTestDatabase, insertEvents, isolatedBackend, recordingHandler, RuntimeTracker, testConfig,
  uuids, waitFor, type BackendKind, type TestDatabase,
} from '../support/harness';

let db: TestDatabase;
const tracker = new RuntimeTracker();

beforeAll(async () => {
  db = await createTestDatabase();
  await createEffectTable(db.dataSource);
});
afterEach(async () => {
  await tracker.cleanup();
  await db.dataSource.query(`TRUNCATE outbox_event, test_effect RESTART IDENTITY CASCADE`);
});
afterAll(async () => {
  await db.destroy();
});

// 10,000 on Redis; the PostgreSQL backend runs the same path on 1,000 to keep the file fast
// (both rates are in docs/performance.md).
describe.each<[BackendKind, number]>([['redis', 10_000], ['postgres', 1_000]])('%s: %i outbox events relayed', (kind, total) => {
  it('are all handled, none twice, each order in order, while a second relay races the first', async () => {
    const config = testConfig(isolatedBackend(kind, db.url), { worker: { concurrency: 16 } });
    const rt = await tracker.create({ dataSource: db.dataSource, config, handlers: [recordingHandler()], withoutEmailHandlers: true });
    // A second process's relay on the same outbox, enqueuing the same ids at the same time.
    const rival = await tracker.create({ dataSource: db.dataSource, config, handlers: [recordingHandler()], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, total, uuids(500));
    await rt.start({ schedulers: false });
    rival.relay.start();
    await waitFor(`${total} deliveries`, async () => (await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery`)) === total, 240_000, 250);

    expect(await count(db.dataSource, `SELECT count(*) n FROM outbox_event WHERE relayed_at IS NULL`)).toBe(0);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(total);
    expect(await count(db.dataSource, `SELECT count(DISTINCT event_id) n FROM test_effect`)).toBe(total);
    // In order per order: within each order, effects were applied in event id order.
    expect(await count(db.dataSource, `
      SELECT count(*) n FROM (
        SELECT event_id, lag(event_id) OVER (PARTITION BY order_id ORDER BY seq) AS prev FROM test_effect
      ) t WHERE prev > event_id`)).toBe(0);
    expect(await rt.listFailedJobs()).toEqual([]);
  }, 240_000);
});
