import { systemActor } from '../audit/log-action';
import { isKassaError, KassaError } from '../errors';
import type { InstanceSettings } from '../config/load-config';
import { globalSettings, type SettingsStore } from './settings-store';

/**
 * Writes the operator's instance-level settings (KASSA_INSTANCE_SETTINGS) at the global level, at
 * every start of the server and of the worker. Only keys whose stored value differs are written,
 * so an unchanged configuration writes nothing (and logs nothing); `null` removes a value. An
 * unknown namespace or an invalid value stops the start with CONFIG_INVALID naming it: an
 * instance must not run on settings its operator did not mean.
 *
 * Instance-only settings (`"x-instance-only": true`), which decide where code is loaded from and
 * where requests are sent, are set here or by an instance operator in the control panel's admin
 * area (the only HTTP route that writes the global level); at every start, this configuration
 * wins for the keys it names.
 */
export async function applyInstanceSettings(settings: SettingsStore, input: InstanceSettings): Promise<{ namespace: string; changed: string[] }[]> {
  const applied: { namespace: string; changed: string[] }[] = [];
  for (const [namespace, values] of Object.entries(input)) {
    let stored: Record<string, unknown>;
    try {
      stored = await settings.storedGlobalValues(namespace);
    } catch (err) {
      if (isKassaError(err, 'SETTINGS_INVALID')) throw new KassaError('CONFIG_INVALID', { detail: `KASSA_INSTANCE_SETTINGS names ${namespace}, which no provider or plugin declares` });
      throw err;
    }
    const patch: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(values)) {
      if (value === null ? key in stored : JSON.stringify(stored[key]) !== JSON.stringify(value)) patch[key] = value;
    }
    if (Object.keys(patch).length === 0) continue;
    try {
      await settings.set(globalSettings, namespace, patch, { actor: systemActor });
    } catch (err) {
      if (isKassaError(err, 'SETTINGS_INVALID')) throw new KassaError('CONFIG_INVALID', { detail: `KASSA_INSTANCE_SETTINGS.${namespace}: ${String(err.params.detail ?? err.message)}` });
      throw err;
    }
    applied.push({ namespace, changed: Object.keys(patch).sort() });
  }
  return applied;
}
