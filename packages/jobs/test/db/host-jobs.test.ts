import { createOrganizer } from '@kassa/testing';
import type { HostJob } from '../../src/host-job';
import { createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';

/**
 * The host's on-demand jobs (the server's exports and data shredder) on the tasks queue: checked at
 * start, run once per job id, retried with `lastAttempt` set on the last try, and a failed one is
 * listed to its organizer only.
 */
let db: TestDatabase;
const tracker = new RuntimeTracker();
const runs: { payload: Record<string, unknown>; attempt: number; lastAttempt: boolean }[] = [];

const recordJob: HostJob = {
  name: 'record',
  async run(payload, ctx) {
    runs.push({ payload, attempt: ctx.attempt, lastAttempt: ctx.lastAttempt });
    if (payload.fail) throw new Error(`task ${String(payload.taskId)} broke`);
    return { ok: true };
  },
};

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await tracker.cleanup();
  runs.length = 0;
});
afterAll(async () => {
  await db.destroy();
});

const runtime = () => tracker.create({
  dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url), { retry: { attempts: 2, backoffMs: 20 } }), withoutEmailHandlers: true, hostJobs: [recordJob],
});

it('refuses bad host job declarations before anything is opened', async () => {
  const config = testConfig(isolatedBackend('redis', db.url));
  await expect(tracker.create({ dataSource: db.dataSource, config, hostJobs: [recordJob, recordJob] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  await expect(tracker.create({ dataSource: db.dataSource, config, hostJobs: [{ ...recordJob, name: 'Bad Name' }] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
});

it('runs an enqueued host job once per job id, and refuses an unknown name', async () => {
  const rt = await runtime();
  await rt.start({ relay: false, schedulers: false });
  await rt.enqueueHostJob('record', { taskId: 't1' }, { jobId: 't1', organizerId: null });
  await rt.enqueueHostJob('record', { taskId: 't1' }, { jobId: 't1', organizerId: null });
  await waitFor('the job', async () => runs.length > 0);
  const job = await rt.queues.tasks.getJob('host-record-t1');
  await waitFor('completion', async () => (await job!.getState()) === 'completed');
  expect(runs).toEqual([{ payload: { taskId: 't1' }, attempt: 1, lastAttempt: false }]);
  await expect(rt.enqueueHostJob('unknown', {}, { jobId: 'x', organizerId: null })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
});

it('retries a failing job with lastAttempt on the last try, and lists the failure to its organizer only', async () => {
  const mine = await createOrganizer(db.dataSource);
  const other = await createOrganizer(db.dataSource);
  const rt = await runtime();
  await rt.start({ relay: false, schedulers: false });
  await rt.enqueueHostJob('record', { taskId: 't2', fail: true }, { jobId: 't2', organizerId: mine.id });
  await waitFor('the failure', async () => (await rt.listFailedJobs({ queue: 'tasks' })).length > 0);
  expect(runs.map((r) => [r.attempt, r.lastAttempt])).toEqual([[1, false], [2, true]]);
  const seenByMine = await rt.listFailedJobs({ queue: 'tasks', viewer: { organizerId: mine.id, operator: false } });
  const seenByOther = await rt.listFailedJobs({ queue: 'tasks', viewer: { organizerId: other.id, operator: false } });
  expect(seenByMine.map((j) => j.id)).toEqual(['host-record-t2']);
  expect(seenByOther).toEqual([]);
});
