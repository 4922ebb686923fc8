import { randomBytes } from 'node:crypto';
import {
  definePlugin, globalSettings, loadPlugins, SettingsStore, systemClock, parseConfig,
  type EmbeddedDefaultHost, type Plugin, type PluginLogger, type PluginRuntime,
} from '@kassa/core/host';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import { startEmbeddedDefaults } from '../../src/embedded-defaults';

/*
 * The distribution drives every plugin's embeddedDefault hook generically: each hook gets its own
 * namespace's global settings (real SettingsStore, real PostgreSQL) and a logger; afterListen
 * failures are logged and never stop start-up; close runs last-started first; a hook that throws
 * stops start-up and closes what earlier hooks started.
 */
let db: TestDatabase;
const config = parseConfig({});
const events: string[] = [];
const logged: string[] = [];
const log: PluginLogger = { info: (m) => logged.push(`info ${m}`), warn: (m) => logged.push(`warn ${m}`), error: (m) => logged.push(`error ${m}`) };

const schema = { type: 'object', properties: { endpoint: { type: 'string', 'x-instance-only': true }, configured: { type: 'boolean' } }, additionalProperties: false };

/** A plugin whose hook starts a part unless its global settings say it is configured. */
function embeddedPlugin(name: string, opts: { failAfterListen?: boolean; failStart?: boolean } = {}): Plugin {
  return definePlugin({
    name, version: '0.0.0', coreRange: '*', settingsSchema: schema,
    async embeddedDefault(host: EmbeddedDefaultHost) {
      if (opts.failStart) throw new Error(`${name} cannot start`);
      const current = await host.globalSettings.read();
      if (current.configured === true) return null;
      await host.globalSettings.write({ endpoint: `http://127.0.0.1/${name}` });
      host.log.info('started');
      events.push(`start ${name}`);
      return {
        async afterListen(rt: PluginRuntime) {
          events.push(`afterListen ${name} ${rt.baseUrl}`);
          if (opts.failAfterListen) throw new Error('endpoint refused');
        },
        async close() {
          events.push(`close ${name}`);
        },
      };
    },
  });
}

async function settingsFor(plugins: Plugin[]): Promise<SettingsStore> {
  const loaded = loadPlugins(plugins, { clock: systemClock });
  return new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
}

const runtimeFor = (plugin: string) => ({ baseUrl: `http://kassa.test/${plugin}` }) as PluginRuntime;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
});
afterAll(async () => db?.destroy());
beforeEach(() => {
  events.length = 0;
  logged.length = 0;
});

it('hands each hook its own global settings, runs afterListen with its runtime (failures logged), and closes in reverse', async () => {
  const plugins = [embeddedPlugin('alpha', { failAfterListen: true }), embeddedPlugin('beta'), definePlugin({ name: 'plain', version: '0.0.0', coreRange: '*' })];
  const settings = await settingsFor(plugins);
  const defaults = await startEmbeddedDefaults(plugins, { settings, log, clock: systemClock, config });
  expect(defaults.started).toEqual(['alpha', 'beta']);
  expect(await settings.resolve(globalSettings, 'plugin.alpha', { fresh: true })).toMatchObject({ endpoint: 'http://127.0.0.1/alpha' });
  expect(await settings.resolve(globalSettings, 'plugin.beta', { fresh: true })).toMatchObject({ endpoint: 'http://127.0.0.1/beta' });
  expect(logged).toEqual(['info alpha: started', 'info beta: started']);

  await defaults.afterListen(runtimeFor);
  expect(events).toEqual(['start alpha', 'start beta', 'afterListen alpha http://kassa.test/alpha', 'afterListen beta http://kassa.test/beta']);
  expect(logged).toContainEqual(expect.stringMatching(/^warn alpha: embedded default did not finish after listen/));

  await defaults.close();
  expect(events.slice(-2)).toEqual(['close beta', 'close alpha']);
  await defaults.close();
  expect(events.filter((e) => e.startsWith('close'))).toHaveLength(2);
});

it('starts nothing for a plugin its operator configured (the hook answers null)', async () => {
  const plugins = [embeddedPlugin('gamma')];
  const settings = await settingsFor(plugins);
  await settings.set(globalSettings, 'plugin.gamma', { configured: true, endpoint: 'https://configured.example' });
  const defaults = await startEmbeddedDefaults(plugins, { settings, log, clock: systemClock, config });
  expect(defaults.started).toEqual([]);
  expect(await settings.resolve(globalSettings, 'plugin.gamma', { fresh: true })).toMatchObject({ endpoint: 'https://configured.example' });
  expect(events).toEqual([]);
});

it('stops start-up when a hook throws, closing what the hooks before it started', async () => {
  const plugins = [embeddedPlugin('delta'), embeddedPlugin('epsilon', { failStart: true })];
  const settings = await settingsFor(plugins);
  await expect(startEmbeddedDefaults(plugins, { settings, log, clock: systemClock, config })).rejects.toThrow('epsilon cannot start');
  expect(events).toEqual(['start delta', 'close delta']);
});

it('lets a hook name its own namespace, and refuses another plugin\'s or an ambiguous default', async () => {
  const seen: Record<string, unknown>[] = [];
  const named = definePlugin({
    name: 'zeta', version: '0.0.0', coreRange: '*', settingsSchema: schema,
    async embeddedDefault(host) {
      const h = host.globalSettings as { write(v: Record<string, unknown>, ns?: string): Promise<void>; read(ns?: string): Promise<Record<string, unknown>> };
      await h.write({ endpoint: 'http://127.0.0.1/zeta' }, 'plugin.zeta');
      seen.push(await h.read('plugin.zeta'));
      await expect(h.read('plugin.alpha')).rejects.toMatchObject({ code: 'PLUGIN_INVALID' });
      await expect(h.write({ endpoint: 'http://127.0.0.1/evil' }, 'payment.stripe')).rejects.toMatchObject({ code: 'PLUGIN_INVALID' });
      return null;
    },
  });
  const nameless = definePlugin({ name: 'nameless', version: '0.0.0', coreRange: '*', embeddedDefault: async (host) => (await host.globalSettings.read(), null) });
  const plugins = [named, nameless];
  const settings = await settingsFor([named, embeddedPlugin('alpha')]);
  await expect(startEmbeddedDefaults(plugins, { settings, log, clock: systemClock, config })).rejects.toMatchObject({ code: 'PLUGIN_INVALID' });
  expect(seen).toEqual([expect.objectContaining({ endpoint: 'http://127.0.0.1/zeta' })]);
});
