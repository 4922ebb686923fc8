import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * One ajv setup for configuration, settings and plugin schemas. Strict, so a typo in a schema
 * keyword fails when the schema is compiled (at boot), not silently at the first write.
 * Kassa's own annotations on settings properties (docs/writing-a-plugin.md):
 * - `x-secret`: the settings store encrypts the value at rest and never shows it;
 * - `x-instance-only`: only the instance (global) level may hold the value (docs/security.md);
 * - `x-unit`: properties naming the same unit resolve together from one level.
 */
export function createAjv(opts: { coerceTypes?: boolean; useDefaults?: boolean } = {}): Ajv {
  // strictNumbers: NaN and Infinity are not numbers (JSON cannot carry them, but a caller's object can).
  const ajv = new Ajv({ allErrors: true, strict: true, strictNumbers: true, coerceTypes: opts.coerceTypes ?? false, useDefaults: opts.useDefaults ?? false });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-instance-only', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-unit', schemaType: 'string' });
  return ajv;
}

/** Human-readable ajv errors that name the field, e.g. "PORT must be <= 65535; feeAbs must be integer". */
export function describeAjvErrors(errors: readonly ErrorObject[] | null | undefined, unknownKey = 'is not a known setting'): string {
  if (!errors || errors.length === 0) return 'invalid';
  const seen = new Set<string>();
  for (const e of errors) seen.add(describeOne(e, unknownKey));
  return [...seen].join('; ');
}

function describeOne(e: ErrorObject, unknownKey: string): string {
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return `${path ? `${path}.` : ''}${extra} ${unknownKey}`;
  }
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return `${path ? `${path}.` : ''}${missing} is required`;
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
    return `${path || 'value'} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${path || 'value'} ${e.message ?? 'is invalid'}`;
}

/** Compiles a schema, turning ajv's compile error into a message (for boot-time validation of plugin schemas). */
export function tryCompile(ajv: Ajv, schema: object): { ok: true; validate: ValidateFunction } | { ok: false; error: string } {
  try {
    return { ok: true, validate: ajv.compile(schema) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
