import { createKassaCore, definePlugin, loadPlugins, SettingsStore, type Plugin, type PluginJob, type PluginRuntime } from '@kassa/core/host';
import { providerContextFactory, providerLookup, TestClock } from '@kassa/testing';
import { pluginJobId, type PluginHost } from '../../src/plugin-jobs';
import { count, createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type BackendKind, type TestDatabase } from '../support/harness';

/*
 * Plugin jobs enqueued at once (a rush of webhooks, each enqueueing its event's job) leave in
 * batches: one addBulk for the jobs that arrived while an add was in flight, never one add each,
 * on both backends; each job still runs once per job id, with its own options.
 */
let db: TestDatabase;
const tracker = new RuntimeTracker();
const clock = new TestClock('2030-01-10T12:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase();
  await db.dataSource.query(`CREATE TABLE batch_run (n int NOT NULL)`);
});
afterEach(async () => {
  await tracker.cleanup();
});
afterAll(async () => {
  await db.destroy();
});

function hostFor(plugin: Plugin): PluginHost {
  const loaded = loadPlugins([plugin], { clock });
  const providers = providerLookup();
  return {
    core: createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock }),
    dataSource: db.dataSource, clock, baseUrl: 'https://shop.kassa.test', providers: loaded.providers,
    settings: new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas }),
  };
}

describe.each<BackendKind>(['redis', 'postgres'])('plugin jobs enqueued at once (%s)', (kind) => {
  it('leave in addBulk batches, never one add each, and each job id runs once with its options', async () => {
    await db.dataSource.query('TRUNCATE batch_run');
    const jobs = [
      { name: 'record', attempts: 2, processor: async (p: Record<string, unknown>, rt: PluginRuntime & { attempt: number }) => {
        await rt.db.query('INSERT INTO batch_run (n) VALUES ($1)', [p.n]);
      } },
    ] as unknown as PluginJob[];
    const plugin = definePlugin({ name: 'acme', version: '1.0.0', coreRange: '^0.1.0', jobs });
    const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend(kind, db.url)), plugins: [plugin], pluginHost: hostFor(plugin), clock });
    const addBulk = jest.spyOn(rt.queues.plugins, 'addBulk');
    const add = jest.spyOn(rt.queues.plugins, 'add');
    // 40 jobs, the first ten enqueued a second time with the same id (one job each).
    const calls = [...Array.from({ length: 40 }, (_, n) => n), ...Array.from({ length: 10 }, (_, n) => n)]
      .map((n) => rt.enqueuePluginJob('acme', 'record', { n }, { jobId: `evt:${n}` }));
    await Promise.all(calls);
    expect(add).not.toHaveBeenCalled();
    expect(addBulk.mock.calls.length).toBeLessThan(calls.length);
    expect(addBulk.mock.calls.reduce((sum, [batch]) => sum + batch.length, 0)).toBe(calls.length);
    expect((await rt.queues.plugins.getJob(pluginJobId('acme', 'evt:7')))?.opts.attempts).toBe(2);

    await rt.start({ schedulers: false, relay: false });
    await waitFor('every job to run', async () => (await count(db.dataSource, 'SELECT count(*) n FROM batch_run')) >= 40);
    await new Promise((r) => setTimeout(r, 300));
    expect(await count(db.dataSource, 'SELECT count(DISTINCT n) n FROM batch_run')).toBe(40);
    expect(await count(db.dataSource, 'SELECT count(*) n FROM batch_run')).toBe(40);
  });
});
