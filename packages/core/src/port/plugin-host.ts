import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.schema';
import { systemClock, type Clock } from '../clock';
import type { KassaCore } from '../kassa-core';
import type { AnyPaymentProvider, Plugin } from '../plugin/plugin-manifest';
import { BasePaymentProvider } from '../provider/base-payment-provider';
import type { PluginLogger, PluginRuntime, PluginSetupContext } from '../plugin/plugin-runtime';
import { providerNamespace } from '../provider/provider-settings';
import type { SettingsStore } from '../settings/settings-store';
import { createPaymentsPort } from './payments-port';
import { createPluginDb } from './plugin-db';
import { createPluginSettings } from './plugin-settings';

/** What the composition root hands the plugin host (the server and the worker have all of it). */
export interface PluginHostDeps {
  readonly core: KassaCore;
  readonly dataSource: DataSource;
  readonly settings: SettingsStore;
  readonly clock: Clock;
  /** Absolute base URL of this instance, without trailing slash. */
  readonly baseUrl: string;
  readonly config?: AppConfig;
  /** Accepted and ignored: plugins reach their providers through their own definition. */
  readonly providers?: unknown;
}

/** What a host adds per request or job: the enqueue bound to its organizer, and its logger. */
export interface PluginIo {
  enqueue: PluginRuntime['enqueue'];
  log: PluginLogger;
}

/**
 * The plugin port of one host (the server, a worker): builds each plugin's runtime, creates the
 * plugin's per-host state with its `setup` once, and closes it with `close()`.
 */
export interface PluginRuntimes {
  runtime(plugin: string, io: PluginIo): PluginRuntime;
  /** The same, typed with the plugin's state (for a host that holds the plugin's definition). */
  runtime<State>(plugin: Plugin<State>, io: PluginIo): PluginRuntime<State>;
  /** Closes every plugin state `setup` created (in reverse order); the host is unusable afterwards. */
  close(): Promise<void>;
}

const quietLog: PluginLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * @example
 * const host = createPluginRuntimes({ core, dataSource, settings, clock, baseUrl }, loaded.plugins);
 * await handler(req, host.runtime('stripe', { enqueue, log }));
 * await host.close();
 */
export function createPluginRuntimes(deps: PluginHostDeps, plugins: readonly Pick<Plugin, 'name' | 'providers' | 'setup'>[]): PluginRuntimes {
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const parts = new Map<string, Omit<PluginRuntime, 'enqueue' | 'log'>>();
  const made: { plugin: string; state: unknown }[] = [];
  let closed = false;

  const partsOf = (name: string): Omit<PluginRuntime, 'enqueue' | 'log'> => {
    const known = parts.get(name);
    if (known) return known;
    if (closed) throw new Error(`plugin host is closed (plugin ${name})`);
    const plugin = byName.get(name);
    if (!plugin) throw new Error(`plugin ${name} is not loaded in this host`);
    const instances = (plugin.providers ?? []).map(providerOf);
    const providerIds = instances.map((p) => p.identifier);
    const storing = instances.find((p) => p.storesMethods)?.identifier ?? null;
    const namespaces = [`plugin.${name}`, ...providerIds.map(providerNamespace)];
    const ctx: PluginSetupContext = {
      plugin: name, db: createPluginDb(deps.dataSource), settings: createPluginSettings(deps.settings, name, namespaces),
      clock: deps.clock, baseUrl: deps.baseUrl.replace(/\/+$/, ''), log: quietLog,
    };
    const state: unknown = plugin.setup ? plugin.setup(ctx) : undefined;
    if (plugin.setup) made.push({ plugin: name, state });
    const value = { ...ctx, payments: createPaymentsPort(deps, name, providerIds, storing), state };
    parts.set(name, value);
    return value;
  };

  return {
    runtime: <State>(plugin: string | Plugin<State>, io: PluginIo): PluginRuntime<State> => {
      const parts = partsOf(typeof plugin === 'string' ? plugin : plugin.name) as Omit<PluginRuntime<State>, 'enqueue' | 'log'>;
      return { ...parts, enqueue: io.enqueue, log: io.log };
    },
    async close() {
      closed = true;
      parts.clear();
      for (const { state } of made.splice(0).reverse()) {
        const close = (state as { close?: unknown } | null | undefined)?.close;
        if (typeof close === 'function') await (close as () => Promise<void>).call(state);
      }
    },
  };
}

/** A throwaway instance of a provider factory, for its identifier and capabilities (providers do no work when created). */
function providerOf(factory: NonNullable<Plugin['providers']>[number]): AnyPaymentProvider {
  const env = { clock: systemClock };
  return factory.prototype instanceof BasePaymentProvider
    ? new (factory as new (e: typeof env) => AnyPaymentProvider)(env)
    : (factory as (e: typeof env) => AnyPaymentProvider)(env);
}
