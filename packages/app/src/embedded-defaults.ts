import {
  globalSettings, KassaError, loadPlugins, type AppConfig, type Clock, type EmbeddedDefault, type Plugin, type PluginLogger, type PluginRuntime, type SettingsStore,
} from '@kassa/core/host';

/** What the bundled plugins' embeddedDefault hooks started, driven through the rest of start-up and shutdown. */
export interface EmbeddedDefaults {
  /** Names of the plugins whose hook started something (answered non-null). */
  readonly started: readonly string[];
  /** After the HTTP server listens: each started part's afterListen, with that plugin's runtime. Failures are logged, never thrown. */
  afterListen(runtimeFor: (plugin: string) => PluginRuntime): Promise<void>;
  /** Stops every started part, the last started first; failures are logged. */
  close(): Promise<void>;
}

/**
 * Calls every plugin's embeddedDefault hook (in list order), handing it its own namespace's
 * instance-level settings and a logger. A hook that throws stops start-up (and closes what the
 * hooks before it started): the embedded default is what a newcomer runs, and a half-configured
 * provider would fail later at checkout instead of here.
 */
export async function startEmbeddedDefaults(
  plugins: readonly Plugin[], deps: { settings: SettingsStore; log: PluginLogger; clock: Clock; config: AppConfig },
): Promise<EmbeddedDefaults> {
  const running: { plugin: string; part: EmbeddedDefault }[] = [];
  const log = (plugin: string): PluginLogger => ({
    info: (msg, data) => deps.log.info(`${plugin}: ${msg}`, data),
    warn: (msg, data) => deps.log.warn(`${plugin}: ${msg}`, data),
    error: (msg, data) => deps.log.error(`${plugin}: ${msg}`, data),
  });
  const close = async () => {
    for (const { plugin, part } of running.splice(0).reverse()) {
      await part.close().catch((err: unknown) => deps.log.error(`${plugin}: embedded default did not close`, { error: errorText(err) }));
    }
  };
  try {
    for (const plugin of plugins) {
      if (!plugin.embeddedDefault) continue;
      const namespace = settingsNamespaceOf(plugin, deps);
      const part = await plugin.embeddedDefault({
        globalSettings: {
          read: () => deps.settings.resolve(globalSettings, namespace, { fresh: true }),
          write: (values) => deps.settings.set(globalSettings, namespace, values),
        },
        log: log(plugin.name),
      });
      if (part) running.push({ plugin: plugin.name, part });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    started: running.map((r) => r.plugin),
    async afterListen(runtimeFor) {
      for (const { plugin, part } of running) {
        if (!part.afterListen) continue;
        try {
          await part.afterListen(runtimeFor(plugin));
        } catch (err) {
          deps.log.warn(`${plugin}: embedded default did not finish after listen`, { error: errorText(err) });
        }
      }
    },
    close,
  };
}

/**
 * The one settings namespace a plugin configures at the instance level: "plugin.<name>" when it
 * declares plugin-wide settings, otherwise its only provider's ("payment.<identifier>"). The
 * loader is asked (it names every namespace a plugin registers), so this follows its rules.
 */
function settingsNamespaceOf(plugin: Plugin, deps: { clock: Clock; config: AppConfig }): string {
  const names = loadPlugins([plugin], { builtins: false, clock: deps.clock, config: deps.config }).settingsSchemas.names();
  const own = `plugin.${plugin.name}`;
  if (names.includes(own)) return own;
  if (names.length === 1) return names[0]!;
  throw new KassaError('PLUGIN_INVALID', {
    plugin: plugin.name, reason: `embeddedDefault needs one settings namespace, found ${names.length} (${names.join(', ') || 'none'}); declare a plugin-wide settingsSchema`,
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
