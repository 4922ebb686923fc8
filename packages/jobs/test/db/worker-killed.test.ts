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
  await db.dataSource.query(`CREATE TABLE test_after_commit (event_id bigint NOT NULL)`);
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await tracker.cleanup();
  await db.dataSource.query(`TRUNCATE outbox_event, test_effect, test_after_commit RESTART IDENTITY CASCADE`);
});
afterAll(async () => {
  await db.destroy();
});

const survivor: EventHandler = {
  name: 'test.killable', // the same handler name as in the killed process: the same effects key
  topics: ['*'],
  async apply(tx, event) {
    await tx.query(`INSERT INTO test_effect (handler, event_id) VALUES ('test.killable', $1)`, [event.id]);
  },
  async afterCommit(event, ctx) {
    await ctx.dataSource.query(`INSERT INTO test_after_commit (event_id) VALUES ($1)`, [event.id]);
  },
};

/**
 * The killed worker's lock runs out, and the second worker's stall check finds the job, sooner than
 * with the harness's settings: the test waits for both once per case. Nothing else runs in these
 * workers, so the locks are renewed in time.
 */
const quickStall = { lockDurationMs: 1_000, stalledIntervalMs: 250 };

/** Backend, where the worker is killed, and how many events (of as many orders) the job carries: one, or several in one deliver-events job. */
const cases: [BackendKind, 'after-commit' | 'in-transaction', number][] = [
  ['redis', 'after-commit', 1], ['redis', 'in-transaction', 1], ['postgres', 'after-commit', 1],
  ['redis', 'in-transaction', 5], ['postgres', 'after-commit', 5],
];

describe.each(cases)('a worker killed with SIGKILL in the middle of a job (%s, %s, %i events)', (kind, killAt, events) => {
  it('runs the job again in another worker and each effect happens once', async () => {
    const config = testConfig(isolatedBackend(kind, db.url), { worker: quickStall });
    const producer = await tracker.create({ dataSource: db.dataSource, config, handlers: [survivor], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, events, uuids(events));
    expect(await producer.relay.relayOnce()).toBe(events);
    expect(await producer.queues.events.getWaiting()).toMatchObject([{ name: events === 1 ? 'deliver-event' : 'deliver-events' }]);

    const child = new ChildWorker('kill-worker.ts', { JOBS_CONFIG: JSON.stringify(config), KILL_AT: killAt, DB_URL: db.url, DB_SCHEMA: db.schema });
    children.push(child);
    await child.waitFor(killAt === 'after-commit' ? 'EFFECT_COMMITTED' : 'IN_TRANSACTION');
    if (events === 1) {
      const expectedBeforeKill = killAt === 'after-commit' ? 1 : 0; // an open transaction is invisible
      expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(expectedBeforeKill);
    }
    child.kill('SIGKILL');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // A second worker (this process) finds the job stalled once its lock expires, and runs it.
    await producer.start({ relay: false, schedulers: false });
    await waitFor('the job to complete in the second worker', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_after_commit`)) === events);
    await waitFor('the job to be marked completed', async () => (await producer.queues.events.getCompletedCount()) === 1);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(events);
    expect(await count(db.dataSource, `SELECT count(DISTINCT event_id) n FROM test_effect`)).toBe(events);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_after_commit`)).toBe(events);
    expect(await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery WHERE state = 'done'`)).toBe(events);
    const [job] = await producer.queues.events.getCompleted();
    expect(job?.attemptsStarted).toBeGreaterThanOrEqual(2);
  });
});
