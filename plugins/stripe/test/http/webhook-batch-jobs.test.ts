import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import Stripe from 'stripe';
import { globalSettings } from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger, type JobsRuntime } from '@kassa/jobs';
import { STRIPE_API_VERSION, createStripePlugin, createWebhookEndpoint, eventJobId, processInboxEvent, storeEvent, sweepInbox } from '../../src';
import { endpointSecret } from '../support/stripe-harness';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * A rush of webhooks on a listening server whose plugin jobs go to the real jobs runtime, on a
 * Redis of this test's own (a private redis-server it stops and starts again), workers running:
 * the rows each inbox statement stores leave as one process-events job, each event is processed
 * once, a failing event goes on in its own process-event job, a batch run again processes nothing
 * twice, and Redis being away loses no event (the inbox row is the truth; the sweep has them).
 */
describe('Stripe webhooks: one job per stored batch, on Redis', () => {
  let h: ServerHarness;
  let jobs: JobsRuntime;
  let account: string;
  let secret: string;
  let redis: ChildProcess | null = null;
  let redisPort: number;

  async function startRedis(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('Ready to accept connections')) resolve(); });
    });
    redis = child;
  }
  // A run killed midway (a timeout) must not leave the private server behind.
  const killRedis = () => redis?.kill('SIGKILL');
  process.once('exit', killRedis);
  async function stopRedis(): Promise<void> {
    const child = redis;
    redis = null;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGKILL'); });
  }

  beforeAll(async () => {
    redisPort = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address() as { port: number }; srv.close(() => resolve(port)); });
    });
    await startRedis();
    h = await createServerHarness({ listen: true, enqueuePluginJob: (plugin, job, payload, o) => jobs.enqueuePluginJob(plugin, job, payload, o) });
    jobs = await createJobsRuntime({
      dataSource: h.db.dataSource, logger: silentLogger, plugins: [createStripePlugin()],
      pluginHost: { core: h.deps.core, dataSource: h.db.dataSource, settings: h.deps.settings, clock: h.deps.clock, baseUrl: h.baseUrl },
      config: defineJobsConfig({
        backend: { kind: 'redis', url: `redis://127.0.0.1:${redisPort}`, prefix: `kt${randomBytes(5).toString('hex')}` },
        publicUrl: h.baseUrl, mailFrom: 'Kassa Test <noreply@kassa.test>',
        retry: { attempts: 3, backoffMs: 50 }, worker: { relayPollMs: 50, orderWaitMs: 50, lockDurationMs: 2_000, stalledIntervalMs: 1_000 },
      }),
    });
    await jobs.start({ schedulers: false, relay: false });
    const endpoint = await createWebhookEndpoint(h.rt, globalSettings);
    account = endpoint.account;
    secret = (await endpointSecret({ settings: h.deps.settings, db: h.db }, endpoint.endpointId))!;
    // Warms the account's secret cache, so that the requests of a test reach the inbox together.
    expect((await deliver(event('evt_warm'))).status).toBe(200);
  });
  afterAll(async () => {
    if (!redis && redisPort) await startRedis();
    await jobs?.stop();
    await jobs?.destroyBackend();
    await h?.destroy();
    await stopRedis();
    process.off('exit', killRedis);
  });

  // An event the processor settles without calling Stripe (nothing of a payment in it).
  const event = (id: string) => JSON.stringify({
    id, object: 'event', type: 'balance.available', api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000),
    data: { object: { object: 'balance', available: [] } },
  }, null, 2);
  // An event whose processing asks Stripe for an intent it does not know: "not ours" once Stripe answers.
  const intentEvent = (id: string, intentId: string) => JSON.stringify({
    id, object: 'event', type: 'payment_intent.succeeded', api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000),
    data: { object: { id: intentId, object: 'payment_intent', metadata: {} } },
  }, null, 2);
  async function deliver(body: string) {
    const res = await fetch(`${h.baseUrl}/plugins/stripe/webhook/${account}`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) },
    });
    return { status: res.status, json: await res.json() as { received?: boolean; duplicate?: boolean } };
  }
  /**
   * Delivers the bodies at once while PostgreSQL holds the inbox's inserts back (a lock on the
   * table, as a rush's busy database would): the requests pile up in the inbox writer and leave
   * together once it is released. A quiet test server stores each request before the next arrives.
   */
  async function deliverHeld(bodies: readonly string[]) {
    const lock = h.db.dataSource.createQueryRunner();
    await lock.connect();
    await lock.startTransaction();
    await lock.query('LOCK TABLE stripe_webhook_inbox IN SHARE ROW EXCLUSIVE MODE');
    const answers = Promise.all(bodies.map(deliver));
    try {
      // Asked on the lock's own connection: the test's pool is small, and the held inserts take the rest.
      await until('an insert waiting for the lock', async () => Number((await lock.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'stripe_webhook_inbox'::regclass AND NOT granted`,
      ))[0].n) >= 1);
      // Time for every request to reach the writer (each answer needs the insert, so none can come back yet).
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await lock.rollbackTransaction();
      await lock.release();
    }
    return answers;
  }
  type Row = { id: string; event_id: string; done: boolean; attempts: number; outcome: string | null; processed_at: Date | null };
  const rows = (prefix: string) => h.db.dataSource.query(
    `SELECT id, event_id, processed_at IS NOT NULL AS done, attempts, outcome, processed_at FROM stripe_webhook_inbox WHERE event_id LIKE $1 ORDER BY event_id`, [`${prefix}%`],
  ) as Promise<Row[]>;
  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 600; i += 1) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const jobOf = (eventId: string) => jobs.queues.plugins.getJob(`stripe--${eventJobId(account, eventId).replace(/:/g, '%3A')}`);
  /** The queue's jobs that name any of these inbox ids, with the ids each names. */
  async function jobsFor(inboxIds: readonly string[]): Promise<{ name: string; ids: string[]; state: string }[]> {
    const wanted = new Set(inboxIds);
    const all = await jobs.queues.plugins.getJobs(['completed', 'failed', 'active', 'wait', 'delayed', 'prioritized', 'waiting-children']);
    const out: { name: string; ids: string[]; state: string }[] = [];
    for (const job of all) {
      const data = job.data as { job: string; payload: { inboxId?: string; inboxIds?: string[] } };
      const ids = data.payload.inboxIds ?? (data.payload.inboxId ? [data.payload.inboxId] : []);
      if (ids.some((id) => wanted.has(id))) out.push({ name: data.job, ids, state: await job.getState() });
    }
    return out;
  }

  it('60 concurrent webhooks and duplicates: each event processed exactly once, by far fewer jobs than events', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `evt_rush_${String(i).padStart(2, '0')}`);
    // Every event once, and the first ten a second time: duplicates are answered as such and enqueue nothing.
    const answers = await deliverHeld([...ids, ...ids.slice(0, 10)].map((id) => event(id)));
    expect(answers.every((a) => a.status === 200 && a.json.received === true)).toBe(true);
    expect(answers.filter((a) => a.json.duplicate === true)).toHaveLength(10);

    await until('every event processed', async () => (await rows('evt_rush_')).every((r) => r.done));
    const stored = await rows('evt_rush_');
    expect(stored.map((r) => [r.event_id, r.done, r.attempts, r.outcome])).toEqual(ids.map((id) => [id, true, 1, 'ignored: balance.available']));
    const queued = await jobsFor(stored.map((r) => r.id));
    // Each event is named by exactly one job, and the jobs are batches: a handful, not sixty.
    expect(queued.flatMap((j) => j.ids).sort()).toEqual(stored.map((r) => r.id).sort());
    expect(queued.length).toBeLessThanOrEqual(10);
    expect(queued.some((j) => j.name === 'process-events' && j.ids.length > 1)).toBe(true);
    expect(queued.every((j) => j.state === 'completed')).toBe(true);
  });

  it('an event failing in a batch: the others are processed, the failing one goes on in its own job until it succeeds', async () => {
    // Stripe answers 500 for the intent twice (the batch's try, then its own job's first), then 404: "not ours".
    const fault = await fetch(`${h.emulator.url}/_emulator/faults`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'kind=error_500&count=2&should_retry=false&path=/v1/payment_intents/pi_batchfail',
    });
    expect(fault.status).toBe(200);
    const ids = Array.from({ length: 12 }, (_, i) => `evt_fail_${String(i).padStart(2, '0')}`);
    const bodies = ids.map((id) => (id === 'evt_fail_05' ? intentEvent(id, 'pi_batchfail') : event(id)));
    expect((await deliverHeld(bodies)).every((a) => a.status === 200)).toBe(true);

    await until('every event processed', async () => (await rows('evt_fail_')).every((r) => r.done));
    const stored = await rows('evt_fail_');
    expect(stored.map((r) => [r.event_id, r.attempts, r.outcome])).toEqual(ids.map((id) => (id === 'evt_fail_05'
      ? [id, 3, `not ours: pi_batchfail does not exist for ${account}`]
      : [id, 1, 'ignored: balance.available'])));
    const failing = stored.find((r) => r.event_id === 'evt_fail_05')!;
    const queued = await jobsFor([failing.id]);
    // Its batch completed (the failure did not fail it), and its own job retried it to the end.
    expect(queued.find((j) => j.name === 'process-events')).toMatchObject({ state: 'completed', ids: expect.arrayContaining([failing.id]) });
    expect(queued.find((j) => j.name === 'process-events')!.ids.length).toBeGreaterThan(1);
    const own = await jobOf('evt_fail_05');
    expect((own?.data as { job: string }).job).toBe('process-event');
    expect(await own?.getState()).toBe('completed');
    expect(own?.attemptsMade).toBe(2);
  });

  it('a batch job run again, or retried after a crash midway, processes no event twice', async () => {
    // Stored without a job, as by a run the worker never finished: the first half processed, the rest not.
    const ids = Array.from({ length: 6 }, (_, i) => `evt_again_${i}`);
    const inboxIds: string[] = [];
    for (const id of ids) {
      inboxIds.push((await storeEvent(h.rt, account, JSON.parse(event(id)) as Stripe.Event, 'webhook'))!);
    }
    for (const id of inboxIds.slice(0, 3)) await processInboxEvent(h.rt, id);
    const before = await rows('evt_again_');

    await jobs.enqueuePluginJob('stripe', 'process-events', { inboxIds }, { jobId: 'stripe:batch:again:1' });
    await until('the batch', async () => (await rows('evt_again_')).every((r) => r.done));
    // The same batch a second time (a retried enqueue under another id, or BullMQ running it again).
    await jobs.enqueuePluginJob('stripe', 'process-events', { inboxIds }, { jobId: 'stripe:batch:again:2' });
    await until('the second run', async () => (await jobsFor(inboxIds)).every((j) => j.state === 'completed') && (await jobsFor(inboxIds)).length === 2);

    const after = await rows('evt_again_');
    expect(after.map((r) => [r.event_id, r.attempts, r.outcome])).toEqual(ids.map((id) => [id, 1, 'ignored: balance.available']));
    // What the first run had done is untouched.
    expect(after.slice(0, 3).map((r) => r.processed_at)).toEqual(before.slice(0, 3).map((r) => r.processed_at));
  });

  it('Redis down while webhooks arrive: every webhook is answered 200, the sweep processes each event once, the late jobs nothing', async () => {
    await stopRedis();
    const ids = Array.from({ length: 20 }, (_, i) => `evt_down_${String(i).padStart(2, '0')}`);
    const answers = await Promise.all(ids.map((id) => deliver(event(id))));
    expect(answers.map((a) => [a.status, a.json])).toEqual(ids.map(() => [200, { received: true }]));
    // Stored, not processed: no job can reach a worker.
    await new Promise((r) => setTimeout(r, 300));
    expect((await rows('evt_down_')).map((r) => r.done)).toEqual(ids.map(() => false));

    await h.db.dataSource.query(`UPDATE stripe_webhook_inbox SET received_at = now() - interval '5 minutes' WHERE event_id LIKE 'evt_down_%'`);
    await sweepInbox(h.rt);
    const swept = await rows('evt_down_');
    expect(swept.map((r) => [r.event_id, r.done, r.attempts])).toEqual(ids.map((id) => [id, true, 1]));

    // Redis back (empty): the enqueues that waited for it go through, their jobs find the events done.
    await startRedis();
    await until('the late jobs', async () => {
      const queued = await jobsFor(swept.map((r) => r.id));
      return queued.flatMap((j) => j.ids).length === ids.length && queued.every((j) => j.state === 'completed');
    });
    expect((await jobsFor(swept.map((r) => r.id))).length).toBeLessThan(ids.length);
    expect((await rows('evt_down_')).map((r) => [r.event_id, r.attempts, r.processed_at])).toEqual(swept.map((r) => [r.event_id, 1, r.processed_at]));
  });
});
