import type { Clock } from '../clock';
import type { Event } from '../event/event.entity';
import type { SettingsNamespaceDefinition } from '../settings/settings-schemas';
import { eventSettings, type SettingsStore } from '../settings/settings-store';
import type { BasePaymentProvider } from './base-payment-provider';
import type { ProviderContextFactory, ProviderLookup } from './provider-registry.types';
import {
  checkCommonSettings, commonSettingDefaults, composeProviderSettingsSchema, providerNamespace, toCommonSettings,
} from './provider-settings';
import type { ProviderContext } from './provider-types';

/**
 * The settings namespace of a provider: its own schema merged with the framework settings, soft
 * required (the provider's `required` list applies only while `_enabled` is true).
 */
export function providerSettingsNamespace(provider: BasePaymentProvider): SettingsNamespaceDefinition {
  return {
    name: providerNamespace(provider.identifier),
    schema: composeProviderSettingsSchema(provider.settingsSchema),
    requiredWhen: '_enabled',
    defaults: commonSettingDefaults(provider.enabledByDefault),
    check: (values) => checkCommonSettings(values) ?? provider.settingsCheck(values),
  };
}

export interface ProviderContextDeps {
  readonly providers: ProviderLookup;
  readonly settings: SettingsStore;
  readonly clock: Clock;
  /** Absolute base URL of this instance (config.BASE_URL), without trailing slash. */
  readonly baseUrl: string;
}

/**
 * Builds the ProviderContextFactory the services use: for one event and provider, the provider's
 * settings resolved through the hierarchy (secrets decrypted) and the framework settings as `common`.
 * Reads the database, so call it before opening a transaction, never inside one.
 *
 * @example const contextFor = createProviderContextFactory({ providers, settings, clock, baseUrl: config.BASE_URL });
 */
export function createProviderContextFactory(deps: ProviderContextDeps): ProviderContextFactory {
  const baseUrl = deps.baseUrl.replace(/\/+$/, '');
  // The provider's own settings and the common ones, split once per resolved values: the store
  // hands out the same frozen values while its cache holds the rows (SettingsStore.resolveFrozen).
  const split = new WeakMap<object, Pick<ProviderContext, 'settings' | 'common'>>();
  return async (event: Event, providerId: string): Promise<ProviderContext> => {
    const provider = deps.providers.get(providerId);
    const values = await deps.settings.resolveFrozen(eventSettings(event), providerNamespace(providerId));
    let parts = split.get(values);
    if (!parts) {
      const own: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(values)) if (!key.startsWith('_')) own[key] = value;
      parts = { settings: Object.freeze(own), common: toCommonSettings(values, provider.enabledByDefault) };
      split.set(values, parts);
    }
    return Object.freeze({ event, settings: parts.settings, common: parts.common, clock: deps.clock, baseUrl });
  };
}
