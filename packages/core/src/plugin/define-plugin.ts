import { pluginMark, type Plugin, type PluginDefinition } from './plugin-manifest';

/**
 * Declares a plugin. A plugin package default-exports exactly one such value; it is plain data,
 * checked once at boot by loadPlugins (which fails fast with a catalogued error), so there is no
 * module-level state to set up on import.
 *
 * @example
 * export default definePlugin({
 *   name: 'stripe', version: '1.0.0', coreRange: '^0.1.0',
 *   providers: [StripeProvider], entities: [StripeReference], migrations: [StripeInit1764000000000],
 *   routes: [{ method: 'POST', path: '/webhook', kind: 'webhook', handler: handleWebhook }],
 * });
 */
export function definePlugin(definition: PluginDefinition): Plugin {
  return Object.freeze({ ...definition, [pluginMark]: true as const });
}

export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[pluginMark] === true;
}
