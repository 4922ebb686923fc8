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

/** A namespace ready for use: compiled validators and the list of secret keys. */
export interface CompiledNamespace {
  readonly definition: SettingsNamespaceDefinition;
  readonly secretKeys: ReadonlySet<string>;
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
      secretKeys: new Set(secretKeysOf(definition.schema)),
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
    if (hasNestedSecret(prop, false)) return `property ${key} marks a nested value as "x-secret"; only top-level properties can be secret`;
  }
  return null;
}

function hasNestedSecret(node: unknown, nested: boolean): boolean {
  if (typeof node !== 'object' || node === null) return false;
  if (nested && (node as JsonSchema)['x-secret'] === true) return true;
  return Object.values(node as JsonSchema).some((child) => hasNestedSecret(child, true));
}

function secretKeysOf(schema: JsonSchema): string[] {
  return Object.entries(schema.properties as Record<string, JsonSchema>).filter(([, p]) => p['x-secret'] === true).map(([k]) => k);
}

function schemaDefaults(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
    if ('default' in prop) out[key] = structuredClone(prop.default);
  }
  return out;
}
