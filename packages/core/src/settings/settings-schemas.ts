import type { ValidateFunction } from 'ajv';
import { KassaError } from '../errors';
import { createAjv, describeAjvErrors, tryCompile } from './json-schema';

type JsonSchema = Record<string, unknown>;

/** One settings namespace: its JSON Schema (flat object schema) and how to validate it. */
export interface SettingsNamespaceDefinition {
  /** e.g. "payment.stripe" for a provider, "plugin.stripe" for a plugin's own settings. */
  readonly name: string;
  readonly schema: JsonSchema;
  /**
   * pretix's soft-required: the schema's `required` list is enforced only while this boolean key
   * is true (providers: "_enabled"), so a disabled provider can be saved half configured.
   */
  readonly requiredWhen?: string;
  /** Defaults under every level of the hierarchy (the schema's own `default`s are applied too). */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** Cross-field rules a JSON Schema cannot say well; returns a message naming the fields, or null. */
  readonly check?: (values: Readonly<Record<string, unknown>>) => string | null;
}

/** A namespace ready for use: compiled validators, its secret and instance-only keys, and its units. */
export interface CompiledNamespace {
  readonly definition: SettingsNamespaceDefinition;
  readonly secretKeys: ReadonlySet<string>;
  /**
   * Keys marked `"x-instance-only": true`: only the global level holds them (set by the operator
   * from the configuration); the store refuses them below and ignores rows found there.
   */
  readonly instanceOnlyKeys: ReadonlySet<string>;
  /** Key → unit name (`"x-unit"`): the keys of one unit are resolved together from one level. */
  readonly units: ReadonlyMap<string, string>;
  readonly defaults: Readonly<Record<string, unknown>>;
  validate(values: Record<string, unknown>): string | null;
}

/**
 * The registry of settings namespaces. Built at boot (loadPlugins registers every provider's and
 * plugin's schema); a schema that does not compile is refused then, not at the first write.
 */
export class SettingsSchemas {
  private readonly ajv = createAjv();
  private readonly namespaces = new Map<string, CompiledNamespace>();

  register(definition: SettingsNamespaceDefinition): CompiledNamespace {
    if (this.namespaces.has(definition.name)) throw new KassaError('PLUGIN_DUPLICATE', { name: `settings namespace ${definition.name}` });
    const reason = schemaProblem(definition.schema);
    if (reason) throw new KassaError('PLUGIN_INVALID', { plugin: definition.name, reason });
    const full = tryCompile(this.ajv, definition.schema);
    if (!full.ok) throw new KassaError('PLUGIN_INVALID', { plugin: definition.name, reason: `settings schema does not compile: ${full.error}` });
    const relaxed = definition.requiredWhen ? this.ajv.compile({ ...definition.schema, required: [] }) : full.validate;
    const compiled: CompiledNamespace = {
      definition,
      secretKeys: new Set(keysMarked(definition.schema, 'x-secret')),
      instanceOnlyKeys: new Set(keysMarked(definition.schema, 'x-instance-only')),
      units: new Map(Object.entries(definition.schema.properties as Record<string, JsonSchema>)
        .filter(([, p]) => typeof p['x-unit'] === 'string').map(([k, p]) => [k, p['x-unit'] as string])),
      defaults: Object.freeze({ ...schemaDefaults(definition.schema), ...definition.defaults }),
      validate: (values) => validateWith(definition.requiredWhen && values[definition.requiredWhen] !== true ? relaxed : full.validate, definition, values),
    };
    this.namespaces.set(definition.name, compiled);
    return compiled;
  }

  has(name: string): boolean {
    return this.namespaces.has(name);
  }

  /** The namespace, or SETTINGS_INVALID naming it when nothing registered it. */
  get(name: string): CompiledNamespace {
    const ns = this.namespaces.get(name);
    if (!ns) throw new KassaError('SETTINGS_INVALID', { namespace: name, detail: 'no provider or plugin declares this settings namespace' });
    return ns;
  }

  names(): string[] {
    return [...this.namespaces.keys()].sort();
  }
}

function validateWith(validate: ValidateFunction, def: SettingsNamespaceDefinition, values: Record<string, unknown>): string | null {
  if (!validate(values)) return describeAjvErrors(validate.errors);
  return def.check?.(values) ?? null;
}

/** Flat object schemas only: the store keeps one row per top-level key, and secrets are top-level keys. */
function schemaProblem(schema: JsonSchema): string | null {
  if (schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null) {
    return 'a settings schema must be an object schema with properties';
  }
  if (schema.additionalProperties !== false) return 'a settings schema must set additionalProperties: false, so that typos are refused';
  for (const [key, prop] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
    for (const [mark, what] of [['x-secret', 'be secret'], ['x-instance-only', 'be instance-only'], ['x-unit', 'form a unit']]) {
      if (hasNested(prop, mark as string, false)) return `property ${key} marks a nested value as "${mark}"; only top-level properties can ${what}`;
    }
    if (looksLikeDestination(key, prop) && typeof prop['x-instance-only'] !== 'boolean') {
      return `property ${key} looks like a URL or host: say whether organizers may set it with "x-instance-only" (true for anything that decides where code is loaded from or requests are sent; see docs/security.md)`;
    }
  }
  return null;
}

/**
 * A property that may name where code is loaded from or where requests go: a URL or host format,
 * a pattern for one, or a name that says so (a list of them too: the items' format and pattern, a
 * plural name, domains and origins, as wallet domains are). Such a property must declare
 * `x-instance-only` explicitly, so no plugin lets organizers point the instance somewhere by accident.
 */
function looksLikeDestination(key: string, prop: JsonSchema): boolean {
  const items = typeof prop.items === 'object' && prop.items !== null && !Array.isArray(prop.items) ? prop.items as JsonSchema : {};
  const formats = [prop.format, items.format].filter((f): f is string => typeof f === 'string');
  const patterns = [prop.pattern, items.pattern].filter((p): p is string => typeof p === 'string');
  return formats.some((f) => ['uri', 'url', 'uri-reference', 'iri', 'iri-reference', 'uri-template', 'hostname', 'idn-hostname', 'ipv4', 'ipv6'].includes(f))
    || patterns.some((p) => /https?|wss?:|:\/\//i.test(p))
    || /(url|uri|host|hostname|endpoint|apibase|baseurl|domain|origin)s?$/i.test(key);
}

function hasNested(node: unknown, mark: string, nested: boolean): boolean {
  if (typeof node !== 'object' || node === null) return false;
  if (nested && (node as JsonSchema)[mark] !== undefined) return true;
  return Object.values(node as JsonSchema).some((child) => hasNested(child, mark, true));
}

function keysMarked(schema: JsonSchema, mark: 'x-secret' | 'x-instance-only'): string[] {
  return Object.entries(schema.properties as Record<string, JsonSchema>).filter(([, p]) => p[mark] === true).map(([k]) => k);
}

function schemaDefaults(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
    if ('default' in prop) out[key] = structuredClone(prop.default);
  }
  return out;
}
