import type { PluginMigration } from '../port/plugin-db';
import { pluginMark, type Plugin, type PluginDefinition, type PluginJob, type PluginRoute } from './plugin-manifest';
import type { PathParams, PluginJobProcessor, PluginRouteHandler } from './plugin-runtime';

/**
 * Declares a plugin. A plugin package default-exports exactly one such value; it is plain data,
 * checked once at boot by loadPlugins (which fails fast with a catalogued error), so there is no
 * module-level state to set up on import. `State` is what `setup` creates per host.
 *
 * @example
 * export default definePlugin({
 *   name: 'acme', version: '1.0.0', coreRange: '^0.1.0', providers: [AcmeProvider], errors: acmeErrors,
 *   migrations: [acmeInit], setup: () => ({ cache: new Map<string, string>() }),
 *   routes: [defineRoute({ method: 'POST', path: '/webhook/:account', kind: 'webhook', handler: handleWebhook })],
 * });
 */
export function definePlugin<State = undefined>(definition: PluginDefinition<State>): Plugin<State> {
  return Object.freeze({ ...definition, [pluginMark]: true as const });
}

export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[pluginMark] === true;
}

/**
 * A route whose handler gets its path parameters typed from the path
 * ("/pay/:paymentId/:token" → `req.params.paymentId`, `req.params.token`) and its body as `Body`.
 */
export function defineRoute<State, const Path extends string, Body = unknown>(
  route: Omit<PluginRoute<State>, 'path' | 'handler'> & { readonly path: Path; readonly handler: PluginRouteHandler<State, PathParams<Path>, Body> },
): PluginRoute<State> {
  return route;
}

/**
 * A job with a typed payload: `payload` checks the stored payload (throw to fail the job) and
 * turns it into the processor's `Payload`.
 *
 * @example defineJob({ name: 'process-event', payload: (p) => ({ inboxId: String(p.inboxId) }), processor: async ({ inboxId }, rt) => … })
 */
export function defineJob<State, Payload>(
  job: Omit<PluginJob<State>, 'processor'> & { readonly payload: (raw: Record<string, unknown>) => Payload; readonly processor: PluginJobProcessor<State, Payload> },
): PluginJob<State> {
  const { payload, processor, ...rest } = job;
  return { ...rest, processor: (raw, rt) => processor(payload(raw), rt) };
}

/** A plain migration of the plugin's own tables (see PluginMigration). */
export function defineMigration(migration: PluginMigration): PluginMigration {
  return Object.freeze({ ...migration });
}
