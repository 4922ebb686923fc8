import { createKassaCore, definePlugin, loadPlugins, SettingsStore, type Plugin, type PluginJob, type PluginRuntime } from '@kassa/core/host';
import { providerContextFactory, providerLookup, TestClock } from '@kassa/testing';
import type { MaintenanceTask } from '../../src/maintenance-task';
import type { PluginHost } from '../../src/plugin-jobs';
import { schedulerIds } from '../../src/queues';
import { count, createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type BackendKind, type TestDatabase } from '../support/harness';
import { PrivateRedis } from '../support/private-redis';

/**
 * Job schedulers survive their datastore: a Redis without persistence restarted under a running
 * worker comes back empty, and the worker re-creates its schedulers when its connection is ready
 * again; a scheduler lost without any reconnect is re-created by the periodic check.
 */
let db: TestDatabase;
const tracker = new RuntimeTracker();
const clock = new TestClock('2030-01-10T12:00:00Z');
// Not the shared Redis on 6379: this test restarts its server. No persistence: a restart empties it.
const forgetful = new PrivateRedis(6500 + Math.floor(Math.random() * 100), false);

beforeAll(async () => {
  db = await createTestDatabase();
  await db.dataSource.query(`CREATE TABLE tick_run (at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await forgetful.start();
});
afterEach(async () => {
  await tracker.cleanup();
});
afterAll(async () => {
  await forgetful.destroy();
  await db.destroy();
});

/** A plugin with one periodic job that records each run. */
function tickPlugin(): Plugin {
  const jobs = [{
    name: 'tick', repeat: { everyMs: 200 },
    processor: async (_p: Record<string, unknown>, rt: PluginRuntime & { attempt: number }) => {
      await rt.db.query('INSERT INTO tick_run DEFAULT VALUES');
    },
  }] as unknown as PluginJob[];
  return definePlugin({ name: 'ticker', version: '1.0.0', coreRange: '^0.1.0', jobs });
}

function hostFor(plugin: Plugin): PluginHost {
  const loaded = loadPlugins([plugin], { clock });
  const providers = providerLookup();
  return {
    core: createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock }),
    dataSource: db.dataSource, clock, baseUrl: 'https://shop.kassa.test', providers: loaded.providers,
    settings: new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas }),
  };
}

/** A host's maintenance task (the server contributes its session purge this way). */
const hostTask: MaintenanceTask = { name: 'purge-sessions', everyMs: 3_600_000, run: async () => ({ purged: 0 }) };
const expected = [schedulerIds.expireOrders, schedulerIds.paymentReminders, schedulerIds.chargeInstalments, hostTask.name, schedulerIds.plugin('ticker', 'tick')].sort();
const ticks = () => count(db.dataSource, 'SELECT count(*) n FROM tick_run');

async function schedulerKeys(rt: Awaited<ReturnType<RuntimeTracker['create']>>): Promise<string[]> {
  const all = [...(await rt.queues.maintenance.getJobSchedulers()), ...(await rt.queues.plugins.getJobSchedulers())];
  return all.map((s) => s.key).sort();
}

describe('job schedulers after a Redis restart without persistence', () => {
  it('are re-created by the running worker when its connection is ready again, and the periodic job runs again', async () => {
    const plugin = tickPlugin();
    // The periodic check is far away: only the reconnect can bring the schedulers back here.
    const config = testConfig(isolatedBackend('redis', db.url, forgetful.url), { worker: { schedulerCheckMs: 3_600_000 } });
    const rt = await tracker.create({ dataSource: db.dataSource, config, plugins: [plugin], pluginHost: hostFor(plugin), services: hostFor(plugin).core, clock, maintenance: [hostTask] });
    await rt.start({ relay: false });
    expect(await schedulerKeys(rt)).toEqual(expected);
    await waitFor('the periodic job to run', async () => (await ticks()) >= 2);

    await forgetful.restart(); // everything in Redis is gone; the worker keeps running
    const afterRestart = await ticks();
    await waitFor('the schedulers to be back', async () => JSON.stringify(await schedulerKeys(rt)) === JSON.stringify(expected));
    // A run in flight across the restart may still land once; three more can only come from the re-created scheduler.
    await waitFor('the periodic job to run again', async () => (await ticks()) >= afterRestart + 3);
    expect(await rt.ensureSchedulers()).toEqual([]);
  }, 60_000);
});

describe.each<BackendKind>(['redis', 'postgres'])('job schedulers lost without a reconnect (%s)', (kind) => {
  it('are re-created by the periodic check', async () => {
    const plugin = tickPlugin();
    const config = testConfig(isolatedBackend(kind, db.url), { worker: { schedulerCheckMs: 200 } });
    const rt = await tracker.create({ dataSource: db.dataSource, config, plugins: [plugin], pluginHost: hostFor(plugin), clock, maintenance: [hostTask] });
    await rt.start({ relay: false });
    const id = hostTask.name;
    expect(await rt.queues.maintenance.getJobScheduler(id)).toBeTruthy();
    await rt.queues.maintenance.removeJobScheduler(id);
    await rt.queues.plugins.removeJobScheduler(schedulerIds.plugin('ticker', 'tick'));
    await waitFor('the removed schedulers to be re-created', async () =>
      !!(await rt.queues.maintenance.getJobScheduler(id)) && !!(await rt.queues.plugins.getJobScheduler(schedulerIds.plugin('ticker', 'tick'))));
    const before = await ticks();
    await waitFor('the periodic job to run again', async () => (await ticks()) >= before + 2);
  }, 60_000);
});
