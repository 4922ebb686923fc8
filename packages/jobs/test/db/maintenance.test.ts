import { createKassaCore, definePlugin, type PluginJob } from '@kassa/core';
import { providerContextFactory, providerLookup, TestClock } from '@kassa/testing';
import type { PluginJobContext } from '../../src/plugin-jobs';
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

/** Runs one maintenance job through the queue and the worker, and returns what it returned. */
async function runMaintenance(rt: Awaited<ReturnType<RuntimeTracker['create']>>, name: 'expire-orders' | 'send-payment-reminders' | 'purge-sessions'): Promise<unknown> {
  const job = await rt.queues.maintenance.add(name, {});
  await waitFor(`${name} to finish`, async () => ['completed', 'failed'].includes(await job.getState()));
  const done = await rt.queues.maintenance.getJob(job.id!);
  if (done?.failedReason) throw new Error(done.failedReason);
  return done?.returnvalue;
}

describe('job schedulers', () => {
  it('schedules expiry every minute (with core services), reminders and session purge every hour', async () => {
    const withCore = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), services: core(), clock });
    await withCore.start({ workers: false, relay: false });
    const schedulers = await withCore.queues.maintenance.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.every]).sort()).toEqual([
      [schedulerIds.expireOrders, 60_000], [schedulerIds.purgeSessions, 3_600_000], [schedulerIds.paymentReminders, 3_600_000],
    ].sort());

    const without = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), clock });
    await without.start({ workers: false, relay: false });
    expect((await without.queues.maintenance.getJobSchedulers()).map((s) => s.key)).not.toContain(schedulerIds.expireOrders);
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

  it('purges expired sessions', async () => {
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), clock });
    await db.dataSource.query(`CREATE TABLE IF NOT EXISTS http_session (id text PRIMARY KEY, data jsonb NOT NULL, expires_at timestamptz NOT NULL)`);
    const now = clock.now().getTime();
    await db.dataSource.query(
      `INSERT INTO http_session (id, data, expires_at) VALUES ('expired-session-0001', '{}', $1), ('expired-session-0002', '{}', $1), ('valid-session-00001', '{}', $2)`,
      [new Date(now - 1000), new Date(now + day)],
    );
    await rt.start({ schedulers: false, relay: false });
    expect(await runMaintenance(rt, 'purge-sessions')).toEqual({ purged: 2 });
    expect(await db.dataSource.query(`SELECT id FROM http_session`)).toEqual([{ id: 'valid-session-00001' }]);
  });
});

describe('plugin jobs', () => {
  it('runs a plugin\'s periodic job on its scheduler and its event job for the topics it names', async () => {
    const periodic: PluginJob = {
      name: 'sync', repeat: { everyMs: 100 },
      processor: async (ctx: PluginJobContext) => ctx.jobs.dataSource.query(`INSERT INTO plugin_run (job) VALUES ($1)`, [`${ctx.plugin}/${ctx.job}`]),
    };
    const onPaid = {
      name: 'on-paid', topics: ['order.paid'],
      processor: async (ctx: PluginJobContext) => ctx.jobs.dataSource.query(`INSERT INTO plugin_run (job, event_id) VALUES ('acme/on-paid', $1)`, [ctx.event!.id]),
    } as PluginJob;
    const plugin = definePlugin({ name: 'acme', version: '1.0.0', coreRange: '^0.1.0', jobs: [periodic, onPaid] });
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), plugins: [plugin], clock });
    expect(rt.handlers.map((h) => h.name)).toContain('acme.on-paid');
    const o = await createOrderFixture(db.dataSource, { email: null });
    await emit(db.dataSource, o, 'order.paid');
    await emit(db.dataSource, o, 'order.placed');
    await rt.start();

    await waitFor('the periodic plugin job to run twice', async () => (await count(db.dataSource, `SELECT count(*) n FROM plugin_run WHERE job = 'acme/sync'`)) >= 2);
    await waitFor('the event job to run', async () => (await count(db.dataSource, `SELECT count(*) n FROM plugin_run WHERE job = 'acme/on-paid'`)) === 1);
    const schedulers = await rt.queues.maintenance.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain(schedulerIds.plugin('acme', 'sync'));
  });

  it('refuses a plugin job that nothing would run', async () => {
    const plugin = definePlugin({ name: 'idle', version: '1.0.0', coreRange: '^0.1.0', jobs: [{ name: 'orphan', processor: async () => undefined }] });
    await expect(tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), plugins: [plugin] }))
      .rejects.toThrow('Plugin idle: job "orphan" has neither repeat nor topics');
  });
});
