import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  count, createEffectTable, createTestDatabase, insertEvents, isolatedBackend, RuntimeTracker, testConfig, uuids, waitFor,
  type BackendKind, type TestDatabase,
} from '../support/harness';
import type { EventHandler } from '../../src/outbox/event-handler';

let db: TestDatabase;
const tracker = new RuntimeTracker();
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await createEffectTable(db.dataSource);
  await db.dataSource.query(`CREATE TABLE test_after_commit (event_id bigint NOT NULL)`);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await tracker.cleanup();
  await db.dataSource.query(`TRUNCATE outbox_event, test_effect, test_after_commit RESTART IDENTITY CASCADE`);
});
afterAll(async () => {
  await db.destroy();
});

/** Starts the fixture worker in its own process and resolves once it printed `marker`. */
function startChild(env: Record<string, string>, marker: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../fixtures/kill-worker.ts')], {
    env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '../../../../tsconfig.base.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(marker)) resolve(child);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before "${marker}": ${err}`)));
  });
}

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

const cases: [BackendKind, 'after-commit' | 'in-transaction'][] = [
  ['redis', 'after-commit'], ['redis', 'in-transaction'], ['postgres', 'after-commit'],
];

describe.each(cases)('a worker killed with SIGKILL in the middle of a job (%s, %s)', (kind, killAt) => {
  it('runs the job again in another worker and its effect happens once', async () => {
    const config = testConfig(isolatedBackend(kind, db.url));
    const producer = await tracker.create({ dataSource: db.dataSource, config, handlers: [survivor], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, 1, uuids(1));
    expect(await producer.relay.relayOnce()).toBe(1);

    const child = await startChild(
      { JOBS_CONFIG: JSON.stringify(config), KILL_AT: killAt, DB_URL: db.url, DB_SCHEMA: db.schema },
      killAt === 'after-commit' ? 'EFFECT_COMMITTED' : 'IN_TRANSACTION',
    );
    const expectedBeforeKill = killAt === 'after-commit' ? 1 : 0; // an open transaction is invisible
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(expectedBeforeKill);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    // A second worker (this process) finds the job stalled once its lock expires, and runs it.
    await producer.start({ relay: false, schedulers: false });
    await waitFor('the job to complete in the second worker', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_after_commit`)) === 1);
    await waitFor('the job to be marked completed', async () => (await producer.queues.events.getCompletedCount()) === 1);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(1);
    expect(await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery WHERE state = 'done'`)).toBe(1);
    const [job] = await producer.queues.events.getCompleted();
    expect(job?.attemptsStarted).toBeGreaterThanOrEqual(2);
  });
});
