import {
  createKassaCore, definePlugin, loadPlugins, SettingsStore, type Plugin, type PluginJob, type PluginRuntime,
} from '@kassa/core/host';
import { providerContextFactory, providerLookup, TestClock } from '@kassa/testing';
import type { MaintenanceTask } from '../../src/maintenance-task';
import { pluginJobId, type PluginHost } from '../../src/plugin-jobs';
import { schedulerIds } from '../../src/queues';
import { count, createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';
import { createOrderFixture, emit } from '../support/order-fixture';

let db: TestDatabase;
const tracker = new RuntimeTracker();
const clock = new TestClock('2030-01-10T12:00:00Z');
const day = 86_400_000;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.dataSource.query(`CREATE TABLE plugin_run (job text NOT NULL, event_id bigint)`);
  await db.dataSource.query(`CREATE TABLE host_session (id text PRIMARY KEY, data jsonb NOT NULL, expires_at timestamptz NOT NULL)`);
});
afterEach(async () => {
  await tracker.cleanup();
});
afterAll(async () => {
  await db.destroy();
});

function core() {
  const providers = providerLookup();
  return createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock });
}

/**
 * A host's maintenance task on a table of its own, the way the server contributes its session
 * purge: jobs never sees the table.
 */
const purgeTask: MaintenanceTask = {
  name: 'purge-sessions',
  everyMs: 3_600_000,
  async run({ now }) {
    const [, purged]: [unknown, number] = await db.dataSource.query(`DELETE FROM host_session WHERE expires_at < $1`, [now]);
    return { purged };
  },
};

/** Runs one maintenance job through the queue and the worker, and returns what it returned. */
async function runMaintenance(rt: Awaited<ReturnType<RuntimeTracker['create']>>, name: 'expire-orders' | 'send-payment-reminders' | MaintenanceTask['name']): Promise<unknown> {
  const job = await rt.queues.maintenance.add(name, {});
  await waitFor(`${name} to finish`, async () => ['completed', 'failed'].includes(await job.getState()));
  const done = await rt.queues.maintenance.getJob(job.id!);
  if (done?.failedReason) throw new Error(done.failedReason);
  return done?.returnvalue;
}

describe('job schedulers', () => {
  it('schedules expiry every minute (with core services), reminders every hour, and the host\'s tasks at their period', async () => {
    const withCore = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), services: core(), clock, maintenance: [purgeTask] });
    await withCore.start({ workers: false, relay: false });
    const schedulers = await withCore.queues.maintenance.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.every]).sort()).toEqual([
      [schedulerIds.expireOrders, 60_000], [purgeTask.name, 3_600_000], [schedulerIds.paymentReminders, 3_600_000],
      [schedulerIds.chargeInstalments, 900_000],
    ].sort());

    const without = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), clock });
    await without.start({ workers: false, relay: false });
    expect((await without.queues.maintenance.getJobSchedulers()).map((s) => s.key)).not.toContain(schedulerIds.expireOrders);
    expect((await without.queues.maintenance.getJobSchedulers()).map((s) => s.key)).not.toContain(schedulerIds.chargeInstalments);
  });

  it('expires pending orders past their deadline through core\'s order service', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('postgres', db.url)), services: core(), clock });
    const late = await createOrderFixture(db.dataSource, { expires: new Date(clock.now().getTime() - 60_000) });
    const onTime = await createOrderFixture(db.dataSource, { expires: new Date(clock.now().getTime() + day) });
    await rt.start({ schedulers: false, relay: false });
    expect(await runMaintenance(rt, 'expire-orders')).toBeGreaterThanOrEqual(1);
    const states: { id: string; status: string }[] = await db.dataSource.query(`SELECT id, status FROM kassa_order WHERE id = ANY($1)`, [[late.orderId, onTime.orderId]]);
    expect(Object.fromEntries(states.map((s) => [s.id, s.status]))).toEqual({ [late.orderId]: 'expired', [onTime.orderId]: 'pending' });
  });

  it('sends one payment reminder per unpaid order close to its deadline', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), clock });
    const now = clock.now().getTime();
    const due = await createOrderFixture(db.dataSource, { email: 'due@example.com', expires: new Date(now + day), createdAt: new Date(now - 3 * day) });
    const fresh = await createOrderFixture(db.dataSource, { email: 'fresh@example.com', expires: new Date(now + day), createdAt: new Date(now - 3_600_000) });
    const later = await createOrderFixture(db.dataSource, { email: 'later@example.com', expires: new Date(now + 10 * day), createdAt: new Date(now - 3 * day) });
    const paid = await createOrderFixture(db.dataSource, { email: 'paid@example.com', status: 'paid', expires: new Date(now + day), createdAt: new Date(now - 3 * day) });
    await rt.start({ schedulers: false, relay: false });

    await runMaintenance(rt, 'send-payment-reminders');
    await runMaintenance(rt, 'send-payment-reminders'); // a second run (or a second worker) adds nothing
    const rows: { order_id: string; recipient: string; subject: string }[] = await db.dataSource.query(
      `SELECT order_id, recipient, subject FROM email_message WHERE template = 'payment-reminder' AND order_id = ANY($1)`,
      [[due.orderId, fresh.orderId, later.orderId, paid.orderId]],
    );
    expect(rows).toEqual([{ order_id: due.orderId, recipient: 'due@example.com', subject: `Reminder: order ${due.code} is not paid yet` }]);
  });

  it('runs a host\'s maintenance task (a session purge) on the maintenance queue with the runtime\'s clock', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), clock, maintenance: [purgeTask] });
    const now = clock.now().getTime();
    await db.dataSource.query(
      `INSERT INTO host_session (id, data, expires_at) VALUES ('expired-session-0001', '{}', $1), ('expired-session-0002', '{}', $1), ('valid-session-00001', '{}', $2)`,
      [new Date(now - 1000), new Date(now + day)],
    );
    await rt.start({ schedulers: false, relay: false });
    expect(await runMaintenance(rt, 'purge-sessions')).toEqual({ purged: 2 });
    expect(await db.dataSource.query(`SELECT id FROM host_session`)).toEqual([{ id: 'valid-session-00001' }]);
  });

  it('refuses a host task that takes a built-in job\'s name, comes twice, or has a bad name or period, before opening anything', async () => {
    const config = testConfig(isolatedBackend('redis', db.url));
    const task = (name: string, everyMs = 1000): MaintenanceTask => ({ name, everyMs, run: async () => undefined });
    for (const maintenance of [[task('expire-orders')], [task('send-action-required-email')], [task('purge'), task('purge')], [task('Purge:all')], [task('purge', 0)]]) {
      await expect(tracker.create({ dataSource: db.dataSource, config, clock, maintenance })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
  });
});

describe('plugin jobs', () => {
  /** The host's side of PluginRuntime, built the way the server builds it. */
  function hostFor(plugin: Plugin): PluginHost {
    const loaded = loadPlugins([plugin], { clock });
    return {
      core: core(), dataSource: db.dataSource, clock, baseUrl: 'https://shop.kassa.test', providers: loaded.providers,
      settings: new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas }),
    };
  }

  it('runs a plugin\'s periodic job, the jobs it enqueues (once per job id), and its event job for the topics it names', async () => {
    const record = (job: string, payload: Record<string, unknown>, rt: PluginRuntime & { attempt: number }) =>
      rt.db.query(`INSERT INTO plugin_run (job, event_id) VALUES ($1, $2)`, [job, payload.eventId ?? payload.n ?? null]);
    const jobs = [
      // The periodic job enqueues an on-demand job with a ':'-laden id (as Stripe's event ids are).
      { name: 'sync', repeat: { everyMs: 100 }, processor: async (_p: Record<string, unknown>, rt: PluginRuntime & { attempt: number }) => {
        await record('acme/sync', {}, rt);
        await rt.enqueue('process', { n: 7 }, { jobId: 'acct:evt_1' });
      } },
      { name: 'process', attempts: 2, processor: async (p: Record<string, unknown>, rt: PluginRuntime & { attempt: number }) => record('acme/process', p, rt) },
      { name: 'on-paid', topics: ['order.paid'], processor: async (p: Record<string, unknown>, rt: PluginRuntime & { attempt: number }) => record('acme/on-paid', p, rt) },
    ] as unknown as PluginJob[];
    const plugin = definePlugin({ name: 'acme', version: '1.0.0', coreRange: '^0.1.0', jobs });
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), plugins: [plugin], pluginHost: hostFor(plugin), clock });
    expect(rt.handlers.map((h) => h.name)).toContain('acme.on-paid');
    const o = await createOrderFixture(db.dataSource, { email: null });
    await emit(db.dataSource, o, 'order.paid');
    await emit(db.dataSource, o, 'order.placed');
    await rt.start();

    await waitFor('the periodic plugin job to run twice', async () => (await count(db.dataSource, `SELECT count(*) n FROM plugin_run WHERE job = 'acme/sync'`)) >= 2);
    await waitFor('the event job to run', async () => (await count(db.dataSource, `SELECT count(*) n FROM plugin_run WHERE job = 'acme/on-paid'`)) === 1);
    await waitFor('the enqueued job to run', async () => (await count(db.dataSource, `SELECT count(*) n FROM plugin_run WHERE job = 'acme/process'`)) === 1);
    const [paidEvent] = await db.dataSource.query(`SELECT id::text AS id FROM outbox_event WHERE order_id = $1 AND topic = 'order.paid'`, [o.orderId]);
    expect(await db.dataSource.query(`SELECT event_id::text FROM plugin_run WHERE job = 'acme/on-paid'`)).toEqual([{ event_id: paidEvent.id }]);
    // Enqueued by every sync run, with the same job id: one job.
    const processJob = await rt.queues.plugins.getJob(pluginJobId('acme', 'acct:evt_1'));
    expect(processJob?.data).toEqual({ plugin: 'acme', job: 'process', payload: { n: 7 }, organizerId: null });
    expect(processJob?.opts.attempts).toBe(2);
    expect((await rt.queues.plugins.getJobSchedulers()).map((s) => s.key)).toEqual([schedulerIds.plugin('acme', 'sync')]);
    await expect(rt.enqueuePluginJob('acme', 'nope', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('binds every plugin job to the organizer it was enqueued for, inherited by what it enqueues, never taken from the plugin', async () => {
    const o = await createOrderFixture(db.dataSource, { email: null });
    const other = await createOrderFixture(db.dataSource, { email: null });
    const jobs = [
      // Tries to move its follow-up job into another organizer's scope through the options and the payload.
      { name: 'parent', processor: async (_p: Record<string, unknown>, rt: PluginRuntime & { attempt: number }) => {
        await rt.enqueue('child', { organizerId: other.organizerId }, { jobId: 'c1', organizerId: other.organizerId } as never);
      } },
      { name: 'child', processor: async () => undefined },
      { name: 'on-paid', topics: ['order.paid'], processor: async (_p: Record<string, unknown>, rt: PluginRuntime & { attempt: number }) => {
        await rt.enqueue('child', {}, { jobId: 'from-event' });
      } },
    ] as unknown as PluginJob[];
    const plugin = definePlugin({ name: 'acme', version: '1.0.0', coreRange: '^0.1.0', jobs });
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), plugins: [plugin], pluginHost: hostFor(plugin), clock });
    await rt.enqueuePluginJob('acme', 'parent', {}, { jobId: 'p1', organizerId: o.organizerId });
    await emit(db.dataSource, o, 'order.paid');
    await rt.start({ schedulers: false });

    const child = () => rt.queues.plugins.getJob(pluginJobId('acme', 'c1', o.organizerId));
    await waitFor('the child job to be enqueued and run', async () => (await (await child())?.getState()) === 'completed');
    expect((await child())?.data).toEqual({ plugin: 'acme', job: 'child', payload: { organizerId: other.organizerId }, organizerId: o.organizerId });
    expect(await rt.queues.plugins.getJob(pluginJobId('acme', 'c1', other.organizerId))).toBeUndefined();
    const fromEvent = () => rt.queues.plugins.getJob(pluginJobId('acme', 'from-event', o.organizerId));
    await waitFor('the event job\'s follow-up to be enqueued', async () => !!(await fromEvent()));
    expect((await fromEvent())?.data.organizerId).toBe(o.organizerId);
    // The same id for another organizer (or for none) is another job: one cannot pre-empt the other's.
    expect(pluginJobId('acme', 'c1', o.organizerId)).not.toBe(pluginJobId('acme', 'c1', other.organizerId));
    expect(pluginJobId('acme', 'c1')).not.toBe(pluginJobId('acme', 'c1', o.organizerId));
    expect(pluginJobId('acme', `c1@${o.organizerId}`)).not.toBe(pluginJobId('acme', 'c1', o.organizerId));
  });

  it('refuses plugin jobs without the host they need, before opening any connection', async () => {
    const plugin = definePlugin({ name: 'idle', version: '1.0.0', coreRange: '^0.1.0', jobs: [{ name: 'orphan', processor: async () => undefined }] });
    await expect(tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), plugins: [plugin] }))
      .rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('idle/orphan') });
  });
});
