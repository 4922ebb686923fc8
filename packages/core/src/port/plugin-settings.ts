import { KassaError } from '../errors';
import type { SecretEnvelope } from '../settings/secret-box';
import type { SettingScope } from '../settings/setting.entity';
import type { DisplaySettings, ResolveOptions, SettingsStore, SettingsTarget } from '../settings/settings-store';
import { managerOf, type PluginDb } from './plugin-db';

/**
 * A plugin's settings: its own namespace ("plugin.<name>") and its providers' ("payment.<id>"),
 * at every level (global → organizer → event). Instance-only fields are refused from organizers
 * as everywhere; secrets are sealed with the instance's key.
 */
export interface PluginSettings {
  resolve(target: SettingsTarget, namespace: string, opts?: ResolveOptions): Promise<Record<string, unknown>>;
  getForDisplay(target: SettingsTarget, namespace: string): Promise<DisplaySettings>;
  set(target: SettingsTarget, namespace: string, patch: Readonly<Record<string, unknown>>): Promise<void>;
  /** Seals a secret the plugin keeps in its own table; `binding` names the row (a copied ciphertext does not open elsewhere). */
  sealSecret(binding: string, value: unknown): SecretEnvelope;
  openSecret(binding: string, envelope: unknown): unknown;
  /** Stored values of a key the namespace no longer declares (a plugin upgrade moving them elsewhere). */
  retiredValues(namespace: string, key: string): Promise<{ scope: SettingScope; scopeId: string; value: unknown }[]>;
  /** Drops one retired value, in the plugin's transaction when `db` is one. */
  dropRetired(namespace: string, key: string, scope: SettingScope, scopeId: string, db?: PluginDb): Promise<void>;
}

/** The host's side: the settings store seen through one plugin's namespaces. */
export function createPluginSettings(store: SettingsStore, plugin: string, namespaces: readonly string[]): PluginSettings {
  const allowed = new Set(namespaces);
  const check = (namespace: string): void => {
    if (!allowed.has(namespace)) throw new KassaError('SETTINGS_INVALID', { namespace, detail: `plugin ${plugin} may use only ${[...allowed].join(', ')}` });
  };
  return {
    resolve: (target, namespace, opts) => { check(namespace); return store.resolve(target, namespace, opts); },
    getForDisplay: (target, namespace) => { check(namespace); return store.getForDisplay(target, namespace); },
    set: (target, namespace, patch) => { check(namespace); return store.set(target, namespace, patch); },
    sealSecret: (binding, value) => store.sealSecret(binding, value),
    openSecret: (binding, envelope) => store.openSecret(binding, envelope),
    retiredValues: (namespace, key) => { check(namespace); return store.retiredValues(namespace, key); },
    dropRetired: (namespace, key, scope, scopeId, db) => { check(namespace); return store.dropRetired(namespace, key, scope, scopeId, managerOf(db)); },
  };
}
