import { ChildWorker } from '../support/child-worker';
import {
  count, createEffectTable, createTestDatabase, insertEvents, isolatedBackend, RuntimeTracker, testConfig, uuids, waitFor,
  type BackendKind, type TestDatabase,
} from '../support/harness';
import type { EventHandler } from '../../src/outbox/event-handler';

let db: TestDatabase;
const tracker = new RuntimeTracker();
const children: ChildWorker[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await createEffectTable(db.dataSource);
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await tracker.cleanup();
  await db.dataSource.query(`TRUNCATE outbox_event, test_effect RESTART IDENTITY CASCADE`);
});
afterAll(async () => {
  await db.destroy();
});

const recorder: EventHandler = {
  name: 'test.slow', // same name as the fixture's handler
  topics: ['*'],
  afterCommit: async (event, ctx) => {
    await ctx.dataSource.query(`INSERT INTO test_effect (handler, event_id) VALUES ('test.slow', $1)`, [event.id]);
  },
};

describe.each<BackendKind>(['redis', 'postgres'])('graceful shutdown on SIGTERM (%s)', (kind) => {
  it('lets the job in flight finish, exits 0, and leaves the jobs not started in the queue', async () => {
    const config = testConfig(isolatedBackend(kind, db.url), { worker: { concurrency: 1 } });
    const producer = await tracker.create({ dataSource: db.dataSource, config, handlers: [recorder], withoutEmailHandlers: true });
    // One at a time, so each is a job of its own (relayed together they would share one).
    for (const order of uuids(3)) {
      await insertEvents(db.dataSource, 1, [order]);
      expect(await producer.relay.relayOnce()).toBe(1);
    }

    const child = new ChildWorker('sigterm-worker.ts', { JOBS_CONFIG: JSON.stringify(config), DB_URL: db.url, DB_SCHEMA: db.schema });
    children.push(child);
    await child.waitFor('STARTED');
    const inFlight = /STARTED (\d+)/.exec(child.stdout)![1]!;
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.stdout).toContain('STOPPED');

    // The job that was running finished its effect before the process exited…
    expect(await db.dataSource.query(`SELECT event_id::text FROM test_effect`)).toEqual([{ event_id: inFlight }]);
    // …and the others were not lost: another worker picks them up.
    await producer.start({ relay: false, schedulers: false });
    await waitFor('the remaining events', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) === 3);
    expect(await count(db.dataSource, `SELECT count(DISTINCT event_id) n FROM test_effect`)).toBe(3);
    await waitFor('all 3 jobs completed', async () => (await producer.queues.events.getCompletedCount()) === 3);
  });
});
