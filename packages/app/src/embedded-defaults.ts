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
 * Calls every plugin's embeddedDefault hook (in list order), handing it its own namespaces'
 * instance-level settings (read fresh) and a logger. A hook that throws stops start-up (and closes what the
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
      const namespaceOf = settingsNamespaces(plugin, deps);
      // The optional namespace argument: a hook may name one of its own namespaces (its providers').
      const read = async (namespace?: string) => deps.settings.resolve(globalSettings, namespaceOf(namespace), { fresh: true });
      const write = async (values: Record<string, unknown>, namespace?: string) => deps.settings.set(globalSettings, namespaceOf(namespace), values);
      const part = await plugin.embeddedDefault({ globalSettings: { read, write }, log: log(plugin.name) });
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
 * The settings namespaces a plugin may configure at the instance level: its own ("plugin.<name>",
 * when it declares plugin-wide settings) and its providers' ("payment.<identifier>"), as the loader
 * registers them. Without a name: "plugin.<name>", or the only namespace the plugin has. Another
 * plugin's namespace, or an ambiguous default, is refused.
 */
function settingsNamespaces(plugin: Plugin, deps: { clock: Clock; config: AppConfig }): (namespace?: string) => string {
  const names = loadPlugins([plugin], { builtins: false, clock: deps.clock, config: deps.config }).settingsSchemas.names();
  const own = `plugin.${plugin.name}`;
  return (namespace) => {
    if (namespace !== undefined) {
      if (names.includes(namespace)) return namespace;
      throw new KassaError('PLUGIN_INVALID', { plugin: plugin.name, reason: `embeddedDefault named settings namespace ${namespace}, which is not the plugin's (${names.join(', ') || 'none'})` });
    }
    if (names.includes(own)) return own;
    if (names.length === 1) return names[0]!;
    throw new KassaError('PLUGIN_INVALID', {
      plugin: plugin.name, reason: `embeddedDefault must name its settings namespace, the plugin has ${names.length} (${names.join(', ') || 'none'})`,
    });
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
