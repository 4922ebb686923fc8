import { KassaError } from '@kassa/core/host';
import { createOrganizer } from '@kassa/testing';
import { Worker } from 'bullmq';
import type { EventHandler } from '../../src/outbox/event-handler';
import { PermanentJobError } from '../../src/job-errors';
import type { JobsBackendConfig } from '../../src/config';
import { jobIds, queueNames } from '../../src/queues';
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

describe.each<BackendKind>(['redis', 'postgres'])('outbox delivery on %s', (kind) => {
  const config = () => testConfig(isolatedBackend(kind, db.url));

  it('relays committed events and runs each handler once per event, even when the event is delivered twice', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: config(), handlers: [recordingHandler('test.a'), recordingHandler('test.b')], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, 20, uuids(4));
    await rt.start({ schedulers: false });
    await waitFor('20 deliveries', async () => (await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery WHERE state = 'done'`)) === 20);
    expect(await count(db.dataSource, `SELECT count(*) n FROM outbox_event WHERE relayed_at IS NULL`)).toBe(0);

    // Redeliver: the same events as fresh jobs (what a relay crash between enqueue and mark, or a
    // pruned completed job, would produce). The effects ledger must absorb them.
    const ids: { id: string }[] = await db.dataSource.query(`SELECT id::text AS id FROM outbox_event ORDER BY id`);
    // Fewer jobs than events ran so far (a job runs its order's next events itself): count from here.
    const completed = await rt.queues.events.getCompletedCount();
    await rt.queues.events.addBulk(ids.map(({ id }) => ({ name: 'deliver-event', data: { eventId: id, topic: 'test.happened', orderId: null }, opts: { jobId: `again-${id}` } })));
    await waitFor('redelivered jobs to finish', async () => (await rt.queues.events.getCompletedCount()) >= completed + 20);

    const rows: { handler: string; n: string }[] = await db.dataSource.query(`SELECT handler, count(DISTINCT event_id) AS n, count(*) AS total FROM test_effect GROUP BY handler ORDER BY handler`);
    expect(rows).toEqual([{ handler: 'test.a', n: '20', total: '20' }, { handler: 'test.b', n: '20', total: '20' }]);
  });

  it('uses deterministic job ids, so relaying the same events twice makes one job: one for several orders\' heads, one per event alone', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: config(), handlers: [recordingHandler()], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, 3, uuids(3));
    expect(await rt.relay.relayOnce()).toBe(3);
    await db.dataSource.query(`UPDATE outbox_event SET relayed_at = NULL`); // as if the mark had been lost
    expect(await rt.relay.relayOnce()).toBe(3);
    expect(await rt.relay.relayOnce()).toBe(0);
    const ids = ((await db.dataSource.query(`SELECT id::text AS id FROM outbox_event ORDER BY id`)) as { id: string }[]).map((r) => r.id);
    expect(await rt.queues.events.getWaitingCount()).toBe(1);
    const batch = await rt.queues.events.getJob(jobIds.deliverEvents(ids));
    expect(batch).toMatchObject({ name: 'deliver-events', data: { eventIds: ids } });
    expect(jobIds.deliverEvents(ids)).not.toBe(jobIds.deliverEvents(ids.slice(0, 2)));

    await insertEvents(db.dataSource, 1, uuids(1));
    expect(await rt.relay.relayOnce()).toBe(1);
    const [last] = await db.dataSource.query(`SELECT max(id)::text AS id FROM outbox_event`);
    expect((await rt.queues.events.getJob(jobIds.deliverEvent(last.id)))?.data).toMatchObject({ eventId: last.id, topic: 'test.happened' });
    expect(await rt.queues.events.getWaitingCount()).toBe(2);
  });

  it('puts at most 32 events in one job, spread evenly, so a poll\'s heads still go to several workers', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: config(), handlers: [recordingHandler()], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, 70, uuids(70));
    expect(await rt.relay.relayOnce()).toBe(70);
    const jobs = await rt.queues.events.getWaiting();
    expect(jobs.map((j) => (j.data as { eventIds: string[] }).eventIds.length).sort()).toEqual([23, 23, 24]);
    expect(new Set(jobs.flatMap((j) => (j.data as { eventIds: string[] }).eventIds)).size).toBe(70);
  });

  it('fails an event of a job for several alone: its own job retries it and lists it, only its order waits, the others go on once', async () => {
    let failing = true;
    const [stuck, ...others] = uuids(4) as [string, ...string[]];
    const picky: EventHandler = {
      name: 'test.picky',
      topics: ['*'],
      async apply(tx, event) {
        await tx.query(`INSERT INTO test_effect (handler, event_id, order_id) VALUES ('test.picky', $1, $2)`, [event.id, event.orderId]);
        if (failing && Number(event.payload.i) === 0) throw new Error('the stuck order\'s ledger is down');
      },
    };
    const rt = await tracker.create({ dataSource: db.dataSource, config: config(), handlers: [picky], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, 12, [stuck, ...others]); // three events per order; the stuck order's first fails
    expect(await rt.relay.relayOnce()).toBe(4);
    expect(await rt.queues.events.getWaiting()).toMatchObject([{ name: 'deliver-events' }]);
    await rt.start({ schedulers: false });
    await waitFor('the failing event in the failed list', async () => (await rt.queues.events.getFailedCount()) === 1);
    // The other orders' 9 events, and the stuck order's two later ones once its first had failed for good.
    await waitFor('11 effects', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) === 11);

    const [failed, ...rest] = await rt.listFailedJobs();
    expect(rest).toEqual([]);
    const [first] = await db.dataSource.query(`SELECT min(id)::text AS id FROM outbox_event WHERE order_id = $1`, [stuck]);
    expect(failed).toMatchObject({ queue: 'events', name: 'deliver-event', id: jobIds.deliverEvent(first.id), attemptsMade: 3 });
    expect(failed!.failedReason).toBe(`handler test.picky failed on test.happened #${first.id}: the stuck order's ledger is down`);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect WHERE order_id = $1 AND event_id = $2`, [stuck, first.id])).toBe(0);
    expect(await db.dataSource.query(`SELECT state, count(*)::int AS n FROM outbox_delivery GROUP BY state ORDER BY state`)).toEqual([
      { state: 'done', n: 11 }, { state: 'failed', n: 1 },
    ]);
    for (const order of [stuck, ...others]) {
      const applied = ((await db.dataSource.query(`SELECT event_id::text FROM test_effect WHERE order_id = $1 ORDER BY seq`, [order])) as { event_id: string }[]).map((r) => Number(r.event_id));
      expect(applied).toEqual([...applied].sort((a, b) => a - b));
    }

    failing = false;
    await rt.retryJob('events', failed!.id);
    await waitFor('the retried event to be done', async () => (await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery WHERE state = 'done'`)) === 12);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(12);
    expect(await count(db.dataSource, `SELECT count(DISTINCT event_id) n FROM test_effect`)).toBe(12);
    expect(await rt.listFailedJobs()).toEqual([]);
  });

  it('leaves events alone in the sweep while their job for several waits in the queue, and enqueues them again once it is gone', async () => {
    const rt = await tracker.create({
      dataSource: db.dataSource, config: testConfig(isolatedBackend(kind, db.url), { worker: { strandedAfterMs: 100 } }), handlers: [recordingHandler()], withoutEmailHandlers: true,
    });
    await insertEvents(db.dataSource, 3, uuids(3));
    expect(await rt.relay.relayOnce()).toBe(3);
    await new Promise((r) => setTimeout(r, 300)); // longer than strandedAfterMs; no worker runs
    expect(await rt.relay.sweepStranded()).toBe(0);
    expect(await rt.queues.events.getWaiting()).toMatchObject([{ name: 'deliver-events' }]);

    await rt.queues.events.drain(); // the job is lost
    expect(await rt.relay.sweepStranded()).toBe(3);
    expect((await rt.queues.events.getWaiting()).map((j) => j.name)).toEqual(['deliver-event', 'deliver-event', 'deliver-event']);
  });

  it('relays only the head of each order\'s line, so an order never has two events in the queue', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: config(), handlers: [recordingHandler()], withoutEmailHandlers: true });
    const [orderA, orderB] = uuids(2) as [string, string];
    await insertEvents(db.dataSource, 6, [orderA, orderB]);
    await db.dataSource.query(`INSERT INTO outbox_event (topic) VALUES ('test.no-order'), ('test.no-order')`);
    expect(await rt.relay.relayOnce()).toBe(4); // the first event of each order, and both order-less ones
    expect(await rt.relay.relayOnce()).toBe(0);
    expect(await count(db.dataSource, `SELECT count(*) n FROM outbox_event WHERE relayed_at IS NULL`)).toBe(4);
  });

  it('handles the events of one order in order, with several jobs running at once', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend(kind, db.url), { worker: { concurrency: 6 } }), handlers: [recordingHandler()], withoutEmailHandlers: true });
    const [orderA, orderB] = uuids(2) as [string, string];
    await insertEvents(db.dataSource, 30, [orderA, orderB]);
    await rt.start({ schedulers: false });
    await waitFor('30 effects', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) === 30);
    for (const order of [orderA, orderB]) {
      const rows: { event_id: string }[] = await db.dataSource.query(`SELECT event_id::text FROM test_effect WHERE order_id = $1 ORDER BY seq`, [order]);
      const applied = rows.map((r) => Number(r.event_id));
      expect(applied).toHaveLength(15);
      expect(applied).toEqual([...applied].sort((a, b) => a - b));
    }
  });

  it('delays a job that meets an unfinished earlier event of its order, without using an attempt', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: config(), handlers: [recordingHandler()], withoutEmailHandlers: true });
    const [order] = uuids(1) as [string];
    await insertEvents(db.dataSource, 2, [order]);
    const [first, second] = (await db.dataSource.query(`SELECT id::text AS id FROM outbox_event ORDER BY outbox_event.id`)) as { id: string }[];
    // A job for the second event added by hand (not through the relay) while the first is not done.
    await rt.queues.events.add('deliver-event', { eventId: second!.id, topic: 'test.happened', orderId: order }, { jobId: 'by-hand' });
    await rt.start({ schedulers: false, relay: false });
    await waitFor('the job to be delayed', async () => (await rt.queues.events.getDelayedCount()) === 1 || (await rt.queues.events.getJob('by-hand'))!.attemptsStarted > 1);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(0);

    await rt.relay.relayOnce(); // now the first event goes through, then the second
    await waitFor('both effects', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect`)) === 2);
    await waitFor('the hand-made job to complete', async () => (await rt.queues.events.getJob('by-hand'))!.isCompleted());
    expect(await db.dataSource.query(`SELECT event_id::text FROM test_effect ORDER BY seq`)).toEqual([{ event_id: first!.id }, { event_id: second!.id }]);
    const byHand = (await rt.queues.events.getJob('by-hand'))!;
    expect(byHand.attemptsStarted).toBeGreaterThan(1); // it ran, waited, ran again…
    expect(byHand.attemptsMade).toBe(1); // …and only the run that completed counts as an attempt
  });

  it('fails only the events whose handler failed when jobs share a transaction, and applies every other effect once', async () => {
    // Every seventh event's handler writes its row and then throws: the batch it shared rolls back
    // and runs again event by event, so the others commit once and its own row never stays.
    const sometimes: EventHandler = {
      name: 'test.sometimes',
      topics: ['*'],
      async apply(tx, event) {
        await tx.query(`INSERT INTO test_effect (handler, event_id, order_id) VALUES ('test.sometimes', $1, $2)`, [event.id, event.orderId]);
        if (Number(event.payload.i) % 7 === 0) throw new PermanentJobError('refused by the test');
      },
    };
    const rt = await tracker.create({
      dataSource: db.dataSource, config: testConfig(isolatedBackend(kind, db.url), { worker: { concurrency: 8 } }), handlers: [sometimes], withoutEmailHandlers: true,
    });
    await insertEvents(db.dataSource, 140, uuids(70));
    await rt.start({ schedulers: false });
    await waitFor('140 deliveries', async () => (await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery`)) === 140);
    expect(await db.dataSource.query(`SELECT state, count(*)::int AS n FROM outbox_delivery GROUP BY state ORDER BY state`)).toEqual([
      { state: 'done', n: 120 }, { state: 'failed', n: 20 },
    ]);
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect`)).toBe(120);
    expect(await count(db.dataSource, `SELECT count(DISTINCT event_id) n FROM test_effect`)).toBe(120);
    expect(await count(db.dataSource, `
      SELECT count(*) n FROM test_effect t JOIN outbox_event e ON e.id = t.event_id WHERE (e.payload->>'i')::int % 7 = 0`)).toBe(0);
    await waitFor('20 failed jobs', async () => (await rt.queues.events.getFailedCount()) === 20);
  });

  it('puts a handler that keeps failing in the failed list with its error after the configured attempts, and retries it on request', async () => {
    let failing = true;
    const flaky: EventHandler = {
      name: 'test.flaky',
      topics: ['test.happened'],
      async apply(tx, event) {
        if (failing) throw new Error('the ledger service is down');
        await tx.query(`INSERT INTO test_effect (handler, event_id) VALUES ('test.flaky', $1)`, [event.id]);
      },
    };
    const rt = await tracker.create({ dataSource: db.dataSource, config: config(), handlers: [recordingHandler('test.first'), flaky], withoutEmailHandlers: true });
    await insertEvents(db.dataSource, 1, uuids(1));
    await rt.start({ schedulers: false });
    await waitFor('a failed job', async () => (await rt.queues.events.getFailedCount()) === 1);

    const [failed, ...rest] = await rt.listFailedJobs();
    expect(rest).toEqual([]);
    expect(failed).toMatchObject({ queue: 'events', name: 'deliver-event', attemptsMade: 3 });
    expect(failed!.failedReason).toMatch(/^handler test\.flaky failed on test\.happened #\d+: the ledger service is down$/);
    // The handler before it committed once, not once per attempt.
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect WHERE handler = 'test.first'`)).toBe(1);
    expect(await db.dataSource.query(`SELECT state, error FROM outbox_delivery`)).toEqual([{ state: 'failed', error: failed!.failedReason }]);

    await expect(rt.retryJob('events', 'event-999999')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(rt.retryJob('nope' as never, failed!.id)).rejects.toThrow(KassaError);
    failing = false;
    await rt.retryJob('events', failed!.id);
    await waitFor('the retried job to complete', async () => (await count(db.dataSource, `SELECT count(*) n FROM test_effect WHERE handler = 'test.flaky'`)) === 1);
    await waitFor('delivery marked done', async () => (await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery WHERE state = 'done'`)) === 1);
    expect(await rt.listFailedJobs()).toEqual([]);
    await expect(rt.retryJob('events', failed!.id)).rejects.toMatchObject({ code: 'JOB_NOT_FAILED' });
    expect(await count(db.dataSource, `SELECT count(*) n FROM test_effect WHERE handler = 'test.first'`)).toBe(1);
  });
});

describe('a failed job for several events in the failed list', () => {
  it('is shown to the organizer of all its events, and to instance operators only when its events are of several organizers', async () => {
    const backend = isolatedBackend('redis', db.url);
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(backend), handlers: [recordingHandler()], withoutEmailHandlers: true });
    const mine = await createOrganizer(db.dataSource);
    const other = await createOrganizer(db.dataSource);
    const [m1, m2, o1] = ((await db.dataSource.query(
      `INSERT INTO outbox_event (topic, organizer_id) VALUES ('test.happened', $1), ('test.happened', $1), ('test.happened', $2) RETURNING id::text AS id`,
      [mine.id, other.id])) as { id: string }[]).map((r) => r.id);
    await rt.queues.events.addBulk([
      { name: 'deliver-events', data: { eventIds: [m1, m2] }, opts: { jobId: 'events-mine', attempts: 1 } },
      { name: 'deliver-events', data: { eventIds: [m2, o1] }, opts: { jobId: 'events-mixed', attempts: 1 } },
    ]);
    // Only this worker takes them, and fails them as a job for several fails: the database or the queue is away.
    const { url, prefix } = backend as Extract<JobsBackendConfig, { kind: 'redis' }>;
    const { hostname, port } = new URL(url);
    const worker = new Worker(queueNames.events, async () => { throw new Error('the database is away'); }, {
      connection: { host: hostname, port: Number(port || 6379) }, prefix,
    });
    try {
      await waitFor('both jobs to fail', async () => (await rt.queues.events.getFailedCount()) === 2);
    } finally {
      await worker.close();
    }
    const seen = async (viewer: { organizerId: string | null; operator: boolean }) =>
      (await rt.listFailedJobs({ queue: 'events', viewer })).map((j) => j.id).sort();
    expect(await seen({ organizerId: mine.id, operator: false })).toEqual(['events-mine']);
    expect(await seen({ organizerId: other.id, operator: false })).toEqual([]);
    expect(await seen({ organizerId: null, operator: true })).toEqual(['events-mixed']);
    expect((await rt.listFailedJobs({ queue: 'events' })).find((j) => j.id === 'events-mine')).toMatchObject({ organizerId: mine.id, failedReason: 'the database is away' });
  });
});
