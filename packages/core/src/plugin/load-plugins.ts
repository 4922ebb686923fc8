import { isAbsolute } from 'node:path';
import { checkLogSentences, coreLogSentences, type LogSentence } from '../audit/log-sentences';
import semver from 'semver';
import type { AppConfig } from '../config/config.schema';
import { systemClock, type Clock } from '../clock';
import { teamPermissions } from '../organizer/team-permissions';
import type { QueryRunner } from 'typeorm';
import type { EntityClass } from '../db/data-source';
import { KassaError, errorCodes, isKassaError, type ErrorCatalogue } from '../errors';
import { pluginDbOfRunner, type PluginMigration } from '../port/plugin-db';
import { BasePaymentProvider, type JsonSchema } from '../provider/base-payment-provider';
import { FreeProvider } from '../provider/builtin/free.provider';
import { ManualProvider } from '../provider/builtin/manual.provider';
import { providerSettingsNamespace } from '../provider/provider-context';
import { ProviderRegistry, providerIdentifierPattern } from '../provider/provider-registry';
import { checkProviderSettingsSchema } from '../provider/provider-settings';
import { SettingsSchemas } from '../settings/settings-schemas';
import { coreVersion as currentCoreVersion } from './core-version';
import { definePlugin, isPlugin } from './define-plugin';
import {
  pluginRouteKinds, pluginRouteMethods, type AnyPaymentProvider, type MigrationClass, type Plugin, type PluginJob, type PluginRoute, type ProviderEnvironment, type ProviderFactory,
} from './plugin-manifest';

/** The built-in providers (manual, free), loaded like any plugin. */
export const builtinPlugin: Plugin = definePlugin({
  name: 'builtin', version: currentCoreVersion, coreRange: `=${currentCoreVersion}`,
  description: 'Manual payment and free orders', providers: [ManualProvider, FreeProvider],
});

export interface LoadPluginsOptions {
  /** Defaults to this core's version. */
  readonly coreVersion?: string;
  readonly clock?: Clock;
  readonly config?: AppConfig;
  /** Load the manual and free providers too (default true). */
  readonly builtins?: boolean;
}

/** Everything the plugins contribute, checked and ready for the host to wire. */
export interface LoadedPlugins {
  readonly plugins: readonly Plugin[];
  readonly providers: ProviderRegistry;
  /** Every provider's namespace ("payment.<id>") and every plugin's ("plugin.<name>"), for the SettingsStore. */
  readonly settingsSchemas: SettingsSchemas;
  /** Always empty since plugins keep their tables through the port's db handle; kept for hosts that pass it on. */
  readonly entities: readonly EntityClass[];
  /** The plugins' plain migrations as the classes TypeORM runs (same names, so nothing runs twice). */
  readonly migrations: readonly MigrationClass[];
  /** Each plugin's own error catalogue (docs/errors.md, the server's error handler). */
  readonly errors: readonly { readonly plugin: string; readonly errors: ErrorCatalogue }[];
  /** `owner` is the plugin declaring the route (the host builds its runtime from it). */
  readonly routes: readonly { readonly plugin: string; readonly route: PluginRoute; readonly owner?: Plugin }[];
  readonly jobs: readonly { readonly plugin: string; readonly job: PluginJob }[];
  readonly views: readonly { readonly plugin: string; readonly dir: string }[];
  /** Core's log sentences and every plugin's (`logSentences`), by action code. */
  readonly logSentences: Readonly<Record<string, LogSentence>>;
  /** The plugins that contribute dashboard notices (`dashboardNotices`); `owner` builds the runtime. */
  readonly dashboardNotices: readonly { readonly plugin: string; readonly owner: Plugin }[];
}

const namePattern = /^[a-z][a-z0-9-]{0,63}$/;
const jobNamePattern = /^[a-z][a-z0-9-]{0,63}$/;
const knownFields = new Set(['name', 'version', 'coreRange', 'description', 'providers', 'migrations', 'settingsSchema', 'routes', 'jobs', 'views', 'errors', 'setup', 'embeddedDefault', 'logSentences', 'dashboardNotices']);
const errorCodePattern = /^[A-Z][A-Z0-9_]{2,63}$/;
const migrationNamePattern = /^[A-Za-z][A-Za-z0-9_]*\d{13}$/;

/**
 * Validates every plugin at boot and fails fast: PLUGIN_INVALID naming the plugin and field,
 * PLUGIN_DUPLICATE for a plugin name, provider identifier, route or job declared twice, and
 * PLUGIN_CORE_VERSION_MISMATCH when this core is outside a plugin's `coreRange`. Providers are
 * instantiated here, once; nothing is global.
 *
 * @example const loaded = loadPlugins([stripePlugin], { config, clock });
 */
export function loadPlugins(plugins: readonly unknown[], opts: LoadPluginsOptions = {}): LoadedPlugins {
  const coreVersion = opts.coreVersion ?? currentCoreVersion;
  const env: ProviderEnvironment = { clock: opts.clock ?? systemClock, config: opts.config };
  const all = [...(opts.builtins === false ? [] : [builtinPlugin]), ...plugins];

  const checked: Plugin[] = [];
  const providerOwner = new Map<string, string>();
  const providers: AnyPaymentProvider[] = [];
  const settingsSchemas = new SettingsSchemas();
  const migrationNames = new Map<string, string>();
  const migrations: MigrationClass[] = [];
  const errorOwner = new Map<string, string>(Object.keys(errorCodes).map((code) => [code, 'core']));
  const errors: { plugin: string; errors: ErrorCatalogue }[] = [];
  const routes: { plugin: string; route: PluginRoute; owner: Plugin }[] = [];
  const jobs: { plugin: string; job: PluginJob }[] = [];
  const views: { plugin: string; dir: string }[] = [];
  const logSentences: Record<string, LogSentence> = { ...coreLogSentences };

  all.forEach((candidate, index) => {
    const plugin = checkShape(candidate, index);
    const name = plugin.name;
    if (checked.some((p) => p.name === name)) throw new KassaError('PLUGIN_DUPLICATE', { name: `plugin ${name}` });
    if (!semver.satisfies(coreVersion, plugin.coreRange, { includePrerelease: true })) {
      throw new KassaError('PLUGIN_CORE_VERSION_MISMATCH', { plugin: name, range: plugin.coreRange, version: coreVersion });
    }

    (plugin.providers ?? []).forEach((factory, i) => {
      const provider = instantiate(name, factory, i, env);
      const owner = providerOwner.get(provider.identifier);
      if (owner !== undefined) {
        throw new KassaError('PLUGIN_DUPLICATE', { name: `provider ${provider.identifier} (plugins ${owner} and ${name})` });
      }
      providerOwner.set(provider.identifier, name);
      register(name, `providers[${i}] (${provider.identifier}).settingsSchema`, () => settingsSchemas.register(providerSettingsNamespace(provider)));
      providers.push(provider);
    });

    if (plugin.settingsSchema) {
      const schema = plugin.settingsSchema;
      register(name, 'settingsSchema', () => settingsSchemas.register({ name: `plugin.${name}`, schema }));
    }

    (plugin.migrations ?? []).forEach((migration) => {
      const other = migrationNames.get(migration.name);
      if (other !== undefined) throw new KassaError('PLUGIN_DUPLICATE', { name: `migration ${migration.name} (plugins ${other} and ${name})` });
      migrationNames.set(migration.name, name);
      migrations.push(migrationClass(migration));
    });
    if (plugin.errors) {
      for (const code of Object.keys(plugin.errors)) {
        const owner = errorOwner.get(code);
        if (owner !== undefined) throw new KassaError('PLUGIN_ERROR_CODE_TAKEN', { plugin: name, code, owner: owner === 'core' ? 'core' : `plugin ${owner}` });
        errorOwner.set(code, name);
      }
      errors.push({ plugin: name, errors: plugin.errors });
    }

    const routeKeys = new Set<string>();
    for (const route of plugin.routes ?? []) {
      const key = `${route.method} ${route.path}`;
      if (routeKeys.has(key)) throw new KassaError('PLUGIN_DUPLICATE', { name: `route ${key} in plugin ${name}` });
      routeKeys.add(key);
      routes.push({ plugin: name, route, owner: plugin });
    }
    const jobNames = new Set<string>();
    for (const job of plugin.jobs ?? []) {
      if (jobNames.has(job.name)) throw new KassaError('PLUGIN_DUPLICATE', { name: `job ${job.name} in plugin ${name}` });
      jobNames.add(job.name);
      jobs.push({ plugin: name, job });
    }
    if (plugin.views) views.push({ plugin: name, dir: plugin.views });
    if (plugin.logSentences) {
      const problem = checkLogSentences(plugin.logSentences, `plugin ${name}`);
      if (problem) throw invalid(name, `logSentences: ${problem}`);
      // A plugin speaks for its own codes only, so it cannot reword core's or another plugin's.
      const foreign = Object.keys(plugin.logSentences).find((code) => !code.startsWith(`kassa.${name}.`));
      if (foreign) throw invalid(name, `logSentences: "${foreign}" is not one of the plugin's own codes (kassa.${name}.…)`);
      Object.assign(logSentences, plugin.logSentences);
    }
    checked.push(plugin);
  });

  return Object.freeze({
    plugins: Object.freeze(checked),
    providers: new ProviderRegistry(providers),
    settingsSchemas,
    entities: Object.freeze([]),
    migrations: Object.freeze(migrations),
    errors: Object.freeze(errors),
    routes: Object.freeze(routes),
    jobs: Object.freeze(jobs),
    views: Object.freeze(views),
    logSentences: Object.freeze(logSentences),
    dashboardNotices: Object.freeze(checked.filter((p) => p.dashboardNotices).map((p) => ({ plugin: p.name, owner: p }))),
  });
}

function invalid(plugin: string, reason: string): KassaError {
  return new KassaError('PLUGIN_INVALID', { plugin, reason });
}

/** Re-reports a settings-schema refusal as the plugin's, naming the field it came from. */
function register(plugin: string, field: string, work: () => unknown): void {
  try {
    work();
  } catch (err) {
    if (isKassaError(err, 'PLUGIN_INVALID')) throw invalid(plugin, `${field}: ${String(err.params.reason)}`);
    throw err;
  }
}

/** Structural checks of one plugin value, each refusal naming the field. */
function checkShape(value: unknown, index: number): Plugin {
  if (!isPlugin(value)) throw invalid(`#${index}`, 'not a definePlugin() value (is the package\'s default export the plugin?)');
  const p = value as Plugin & Record<string, unknown>;
  const label = typeof p.name === 'string' && p.name ? p.name : `#${index}`;
  for (const key of Object.keys(p)) if (!knownFields.has(key)) throw invalid(label, `unknown field ${key}`);
  if (typeof p.name !== 'string' || !namePattern.test(p.name)) throw invalid(label, `name must match ${namePattern.source}`);
  if (typeof p.version !== 'string' || semver.valid(p.version) === null) throw invalid(label, `version ${String(p.version)} is not a semver version`);
  if (typeof p.coreRange !== 'string' || semver.validRange(p.coreRange) === null) throw invalid(label, `coreRange ${String(p.coreRange)} is not a semver range`);
  if (p.description !== undefined && typeof p.description !== 'string') throw invalid(label, 'description must be a string');
  if (p.providers !== undefined) {
    if (!Array.isArray(p.providers)) throw invalid(label, 'providers must be an array');
    p.providers.forEach((item, i) => { if (typeof item !== 'function') throw invalid(label, `providers[${i}] must be a class or function`); });
  }
  checkMigrations(label, p.migrations);
  checkErrors(label, p.errors);
  for (const hook of ['setup', 'embeddedDefault', 'dashboardNotices'] as const) {
    if (p[hook] !== undefined && typeof p[hook] !== 'function') throw invalid(label, `${hook} must be a function`);
  }
  if (p.settingsSchema !== undefined && (typeof p.settingsSchema !== 'object' || p.settingsSchema === null)) throw invalid(label, 'settingsSchema must be a JSON Schema object');
  checkRoutes(label, p.routes);
  checkJobs(label, p.jobs);
  if (p.views !== undefined && (typeof p.views !== 'string' || !isAbsolute(p.views))) throw invalid(label, 'views must be an absolute directory path');
  if (p.embeddedDefault !== undefined && typeof p.embeddedDefault !== 'function') throw invalid(label, 'embeddedDefault must be a function');
  return p;
}

function checkRoutes(label: string, routes: unknown): void {
  if (routes === undefined) return;
  if (!Array.isArray(routes)) throw invalid(label, 'routes must be an array');
  routes.forEach((r: Partial<PluginRoute>, i) => {
    if (typeof r !== 'object' || r === null) throw invalid(label, `routes[${i}] must be an object`);
    if (!pluginRouteMethods.includes(r.method as never)) throw invalid(label, `routes[${i}].method must be one of ${pluginRouteMethods.join(', ')}`);
    if (typeof r.path !== 'string' || !/^\/[A-Za-z0-9_\-/:.]*$/.test(r.path)) throw invalid(label, `routes[${i}].path must start with "/" and contain only URL path characters`);
    if (!pluginRouteKinds.includes(r.kind as never)) throw invalid(label, `routes[${i}].kind must be one of ${pluginRouteKinds.join(', ')}`);
    if (typeof r.handler !== 'function') throw invalid(label, `routes[${i}].handler must be a function`);
    // 'operator' only on control routes: an API token is never an instance operator.
    const permissionOk = r.permission === 'member' || (teamPermissions as readonly unknown[]).includes(r.permission) || (r.kind === 'control' && r.permission === 'operator');
    if (r.permission !== undefined && ((r.kind !== 'control' && r.kind !== 'api') || !permissionOk)) {
      throw invalid(label, `routes[${i}].permission may only be set on a control route, to 'member', 'operator' or one of ${teamPermissions.join(', ')}, or on an api route, to 'member' or one of them`);
    }
    if (r.oneTime !== undefined) {
      const shape = typeof r.oneTime === 'object' && r.oneTime !== null ? r.oneTime as { paymentParam?: unknown; refundParam?: unknown } : undefined;
      const keys = shape ? Object.keys(shape) : [];
      const param = keys.length === 1 ? shape!.paymentParam ?? shape!.refundParam : undefined;
      const shapeOk = r.oneTime === true || (typeof param === 'string' && r.path.split('/').includes(`:${param}`));
      if (!shapeOk || r.kind !== 'control') {
        throw invalid(label, `routes[${i}].oneTime may only be true, { paymentParam } or { refundParam } naming a parameter of its path, on a control route`);
      }
    }
  });
}

function checkMigrations(label: string, migrations: unknown): void {
  if (migrations === undefined) return;
  if (!Array.isArray(migrations)) throw invalid(label, 'migrations must be an array');
  migrations.forEach((m: Partial<PluginMigration>, i) => {
    if (typeof m !== 'object' || m === null || typeof m.up !== 'function' || typeof m.down !== 'function') {
      throw invalid(label, `migrations[${i}] must be { name, up(db), down(db) }`);
    }
    if (typeof m.name !== 'string' || !migrationNamePattern.test(m.name)) throw invalid(label, `migrations[${i}].name must match ${migrationNamePattern.source}`);
  });
}

function checkErrors(label: string, errors: unknown): void {
  if (errors === undefined) return;
  if (typeof errors !== 'object' || errors === null || Array.isArray(errors)) throw invalid(label, 'errors must be an object of code → { status, message }');
  for (const [code, def] of Object.entries(errors as Record<string, { status?: unknown; message?: unknown; guidance?: unknown }>)) {
    if (!errorCodePattern.test(code)) throw invalid(label, `errors.${code}: codes must match ${errorCodePattern.source}`);
    if (typeof def !== 'object' || def === null || !Number.isInteger(def.status) || (def.status as number) < 400 || (def.status as number) > 599) {
      throw invalid(label, `errors.${code}.status must be an HTTP error status (400-599)`);
    }
    if (typeof def.message !== 'string' || def.message === '') throw invalid(label, `errors.${code}.message must be a non-empty string`);
    if (def.guidance !== undefined && typeof def.guidance !== 'string') throw invalid(label, `errors.${code}.guidance must be a string`);
  }
}

/**
 * The TypeORM migration class of a plain migration: named like it (TypeORM records migrations by
 * name and orders them by the name's timestamp), its `up`/`down` getting a PluginDb on the
 * migration's transaction.
 */
function migrationClass(m: PluginMigration): MigrationClass {
  const holder = {
    [m.name]: class {
      readonly name = m.name;
      async up(q: QueryRunner): Promise<void> {
        await m.up(pluginDbOfRunner(q));
      }
      async down(q: QueryRunner): Promise<void> {
        await m.down(pluginDbOfRunner(q));
      }
    },
  };
  return holder[m.name] as MigrationClass;
}

function checkJobs(label: string, jobs: unknown): void {
  if (jobs === undefined) return;
  if (!Array.isArray(jobs)) throw invalid(label, 'jobs must be an array');
  jobs.forEach((j: Partial<PluginJob>, i) => {
    if (typeof j !== 'object' || j === null) throw invalid(label, `jobs[${i}] must be an object`);
    if (typeof j.name !== 'string' || !jobNamePattern.test(j.name)) throw invalid(label, `jobs[${i}].name must match ${jobNamePattern.source}`);
    if (typeof j.processor !== 'function') throw invalid(label, `jobs[${i}].processor must be a function`);
    if (j.attempts !== undefined && (!Number.isSafeInteger(j.attempts) || j.attempts < 1)) throw invalid(label, `jobs[${i}].attempts must be a positive integer`);
    const repeat = j.repeat as Record<string, unknown> | undefined;
    if (repeat !== undefined) {
      const every = repeat.everyMs;
      const okEvery = typeof every === 'number' && Number.isSafeInteger(every) && every > 0;
      const okCron = typeof repeat.cron === 'string' && repeat.cron.trim().split(/\s+/).length >= 5;
      if (!okEvery && !okCron) throw invalid(label, `jobs[${i}].repeat must be { everyMs: positive integer } or { cron: "m h dom mon dow" }`);
    }
    if (j.topics !== undefined && (!Array.isArray(j.topics) || j.topics.length === 0 || !j.topics.every((t) => typeof t === 'string' && /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(t)))) {
      throw invalid(label, `jobs[${i}].topics must be a non-empty array of outbox topics like "refund.external"`);
    }
  });
}

/** Creates a provider and checks the parts of the contract that can be checked without calling it. */
function instantiate(plugin: string, factory: ProviderFactory, index: number, env: ProviderEnvironment): AnyPaymentProvider {
  const field = `providers[${index}]`;
  let provider: unknown;
  try {
    provider = factory.prototype instanceof BasePaymentProvider
      ? new (factory as new (e: ProviderEnvironment) => AnyPaymentProvider)(env)
      : (factory as (e: ProviderEnvironment) => AnyPaymentProvider)(env);
  } catch (err) {
    throw invalid(plugin, `${field} could not be created: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(provider instanceof BasePaymentProvider)) throw invalid(plugin, `${field} is not a BasePaymentProvider`);
  const id: unknown = provider.identifier;
  if (typeof id !== 'string' || !providerIdentifierPattern.test(id)) throw invalid(plugin, `${field}.identifier must match ${providerIdentifierPattern.source}`);
  if (typeof provider.verboseName !== 'string' || provider.verboseName.trim() === '') throw invalid(plugin, `${field} (${id}).verboseName must be a non-empty string`);
  if (!Number.isSafeInteger(provider.priority)) throw invalid(plugin, `${field} (${id}).priority must be an integer`);
  const problem = checkProviderSettingsSchema(provider.settingsSchema as JsonSchema);
  if (problem) throw invalid(plugin, `${field} (${id}).${problem}`);
  return provider;
}
