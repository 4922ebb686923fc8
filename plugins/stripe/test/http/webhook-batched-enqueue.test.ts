import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { globalSettings } from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger, type JobsRuntime } from '@kassa/jobs';
import { STRIPE_API_VERSION, createStripePlugin, createWebhookEndpoint, eventJobId, sweepInbox } from '../../src';
import { endpointSecret } from '../support/stripe-harness';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * A rush of webhooks on a listening server whose plugin jobs go to the real jobs runtime (Redis, a
 * prefix of the test's own, workers running): the process-event jobs leave in batches (addBulk), each
 * event is processed once, and a Redis failure during a batch loses no event (the inbox row is the
 * truth; the sweep processes what was never enqueued).
 */
describe('Stripe webhooks with their jobs batched on Redis', () => {
  let h: ServerHarness;
  let jobs: JobsRuntime;
  let account: string;
  let secret: string;

  beforeAll(async () => {
    h = await createServerHarness({ listen: true, enqueuePluginJob: (plugin, job, payload, o) => jobs.enqueuePluginJob(plugin, job, payload, o) });
    jobs = await createJobsRuntime({
      dataSource: h.db.dataSource, logger: silentLogger, plugins: [createStripePlugin()],
      pluginHost: { core: h.deps.core, dataSource: h.db.dataSource, settings: h.deps.settings, clock: h.deps.clock, baseUrl: h.baseUrl },
      config: defineJobsConfig({
        backend: { kind: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `kt${randomBytes(5).toString('hex')}` },
        publicUrl: h.baseUrl, mailFrom: 'Kassa Test <noreply@kassa.test>',
        retry: { attempts: 3, backoffMs: 50 }, worker: { relayPollMs: 50, orderWaitMs: 50, lockDurationMs: 2_000, stalledIntervalMs: 1_000 },
      }),
    });
    await jobs.start({ schedulers: false, relay: false });
    const endpoint = await createWebhookEndpoint(h.rt, globalSettings);
    account = endpoint.account;
    secret = (await endpointSecret({ settings: h.deps.settings, db: h.db }, endpoint.endpointId))!;
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await jobs?.stop();
    await jobs?.destroyBackend();
    await h?.destroy();
  });

  // An event the processor settles without calling Stripe (nothing of a payment in it).
  const event = (id: string) => JSON.stringify({
    id, object: 'event', type: 'balance.available', api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000),
    data: { object: { object: 'balance', available: [] } },
  }, null, 2);
  const deliver = async (body: string) => {
    const res = await fetch(`${h.baseUrl}/plugins/stripe/webhook/${account}`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) },
    });
    return { status: res.status, json: await res.json() as { received?: boolean; duplicate?: boolean } };
  };
  const rows = (prefix: string) => h.db.dataSource.query(
    `SELECT event_id, processed_at IS NOT NULL AS done, attempts, outcome FROM stripe_webhook_inbox WHERE event_id LIKE $1 ORDER BY event_id`, [`${prefix}%`],
  ) as Promise<{ event_id: string; done: boolean; attempts: number; outcome: string | null }[]>;
  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 600; i += 1) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const jobOf = (eventId: string) => jobs.queues.plugins.getJob(`stripe--${eventJobId(account, eventId).replace(/:/g, '%3A')}`);

  it('N concurrent webhooks: their jobs leave in a few addBulk calls, never one add each, and every event is processed exactly once', async () => {
    const addBulk = jest.spyOn(jobs.queues.plugins, 'addBulk');
    const add = jest.spyOn(jobs.queues.plugins, 'add');
    const ids = Array.from({ length: 60 }, (_, i) => `evt_rush_${String(i).padStart(2, '0')}`);
    // Every event once, and the first ten a second time: duplicates are answered as such and enqueue nothing.
    const answers = await Promise.all([...ids, ...ids.slice(0, 10)].map((id) => deliver(event(id))));
    expect(answers.every((a) => a.status === 200 && a.json.received === true)).toBe(true);
    expect(answers.filter((a) => a.json.duplicate === true)).toHaveLength(10);

    await until('every event processed', async () => (await rows('evt_rush_')).every((r) => r.done));
    expect(await rows('evt_rush_')).toEqual(ids.map((id) => ({ event_id: id, done: true, attempts: 1, outcome: 'ignored: balance.available' })));
    // One job per event: 60 jobs enqueued, each completed once.
    const sizes = addBulk.mock.calls.map(([batch]) => batch.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(60);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(add).not.toHaveBeenCalled();
    for (const id of ids) expect(await (await jobOf(id))?.getState()).toBe('completed');
    expect(await jobs.queues.plugins.getJobCountByTypes('completed')).toBe(60);
  });

  it('a batch that fails once is tried again job by job: every event is still enqueued and processed', async () => {
    const original = jobs.queues.plugins.addBulk.bind(jobs.queues.plugins);
    const addBulk = jest.spyOn(jobs.queues.plugins, 'addBulk').mockImplementation(async (batch) => {
      if (batch.length > 1 && addBulk.mock.calls.filter(([b]) => b.length > 1).length === 1) throw new Error('Connection is closed.');
      return original(batch);
    });
    const ids = Array.from({ length: 30 }, (_, i) => `evt_retry_${String(i).padStart(2, '0')}`);
    expect((await Promise.all(ids.map((id) => deliver(event(id))))).every((a) => a.status === 200)).toBe(true);
    await until('every event processed', async () => (await rows('evt_retry_')).every((r) => r.done));
    expect((await rows('evt_retry_')).map((r) => [r.event_id, r.attempts])).toEqual(ids.map((id) => [id, 1]));
    expect(addBulk.mock.calls.some(([b]) => b.length > 1)).toBe(true);
  });

  it('a Redis failure during the batches loses no event: the webhooks are answered 200, the rows stay, the sweep processes each once', async () => {
    jest.spyOn(jobs.queues.plugins, 'addBulk').mockRejectedValue(new Error('Connection is closed.'));
    const ids = Array.from({ length: 20 }, (_, i) => `evt_down_${String(i).padStart(2, '0')}`);
    const answers = await Promise.all(ids.map((id) => deliver(event(id))));
    expect(answers.map((a) => [a.status, a.json])).toEqual(ids.map(() => [200, { received: true }]));
    // Stored, never enqueued: nothing processes them until the sweep.
    await new Promise((r) => setTimeout(r, 300));
    expect((await rows('evt_down_')).map((r) => r.done)).toEqual(ids.map(() => false));
    for (const id of ids) expect(await jobOf(id)).toBeUndefined();
    jest.restoreAllMocks();

    await h.db.dataSource.query(`UPDATE stripe_webhook_inbox SET received_at = now() - interval '5 minutes' WHERE event_id LIKE 'evt_down_%'`);
    await sweepInbox(h.rt);
    expect(await rows('evt_down_')).toEqual(ids.map((id) => ({ event_id: id, done: true, attempts: 1, outcome: 'ignored: balance.available' })));
  });
});
