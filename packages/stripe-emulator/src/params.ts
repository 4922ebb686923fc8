import { invalidRequest, missingParameter, unknownParameter } from './errors';
import type { FormObject, FormValue } from './form-decode';

/**
 * Typed, strict access to decoded request parameters. Construction rejects any parameter
 * not in the allowed list with Stripe's `parameter_unknown` error, naming it as it was sent
 * (`automatic_payment_methods[foo]`), so a typo in the plugin fails here as it would at Stripe.
 */
export class Params {
  constructor(
    readonly raw: FormObject,
    allowed: readonly string[],
    private readonly prefix = '',
  ) {
    for (const key of Object.keys(raw)) {
      if (key === 'expand' && !prefix) continue;
      if (!allowed.includes(key)) throw unknownParameter(this.name(key));
    }
  }

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  /** A non-empty string, or undefined when absent or sent empty (stripe-node's null). */
  str(key: string, required = false): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') {
      if (required) throw missingParameter(this.name(key));
      return undefined;
    }
    if (typeof v !== 'string') throw invalidRequest(`Invalid string: ${this.name(key)}`, { param: this.name(key), code: 'parameter_invalid_string' });
    return v;
  }

  reqStr(key: string): string {
    return this.str(key, true) as string;
  }

  int(key: string, required = false): number | undefined {
    const s = this.str(key, required);
    if (s === undefined) return undefined;
    if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
      throw invalidRequest(`Invalid integer: ${s}`, { param: this.name(key), code: 'parameter_invalid_integer' });
    }
    return Number(s);
  }

  reqInt(key: string): number {
    return this.int(key, true) as number;
  }

  bool(key: string): boolean | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    if (s !== 'true' && s !== 'false') throw invalidRequest(`Invalid boolean: ${s}`, { param: this.name(key) });
    return s === 'true';
  }

  oneOf<const T extends string>(key: string, values: readonly T[], required = false): T | undefined {
    const s = this.str(key, required);
    if (s === undefined) return undefined;
    if (!(values as readonly string[]).includes(s)) {
      throw invalidRequest(`Invalid ${this.name(key)}: must be one of ${values.join(', ')}`, { param: this.name(key) });
    }
    return s as T;
  }

  /** A nested hash, itself strictly checked against `allowed`. */
  obj(key: string, allowed: readonly string[]): Params | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw invalidRequest(`Invalid object: ${this.name(key)}`, { param: this.name(key) });
    return new Params(v, allowed, this.name(key));
  }

  /** A nested hash passed through without schema (e.g. evidence text fields, addresses). */
  loose(key: string): Record<string, unknown> | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw invalidRequest(`Invalid object: ${this.name(key)}`, { param: this.name(key) });
    return v as Record<string, unknown>;
  }

  strArray(key: string): string[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    const arr = Array.isArray(v) ? v : [v];
    return arr.map((x) => {
      if (typeof x !== 'string') throw invalidRequest(`Invalid array: ${this.name(key)}`, { param: this.name(key) });
      return x;
    });
  }

  /**
   * Applies `metadata` to an existing map: `metadata[k]=` deletes k, `metadata=` clears all.
   * Limits from §1.1: 50 keys, key ≤ 40 chars, value ≤ 500 chars.
   */
  metadata(current: Record<string, string> = {}): Record<string, string> {
    const v = this.raw.metadata;
    if (v === undefined) return current;
    if (v === '') return {};
    const entries: [string, FormValue][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : typeof v === 'object' ? Object.entries(v) : [];
    if (typeof v === 'string') throw invalidRequest('Invalid object: metadata', { param: 'metadata' });
    const next = { ...current };
    for (const [k, val] of entries) {
      if (typeof val !== 'string') throw invalidRequest(`Invalid metadata[${k}]: must be a string`, { param: `metadata[${k}]` });
      if (k.length > 40) throw invalidRequest(`Invalid metadata[${k}]: keys must be at most 40 characters`, { param: `metadata[${k}]` });
      if (val.length > 500) throw invalidRequest(`Invalid metadata[${k}]: values must be at most 500 characters`, { param: `metadata[${k}]` });
      if (val === '') delete next[k];
      else next[k] = val;
    }
    if (Object.keys(next).length > 50) throw invalidRequest('Invalid metadata: at most 50 keys', { param: 'metadata' });
    return next;
  }

  expand(): string[] {
    const v = this.raw.expand;
    if (v === undefined || v === '') return [];
    const arr = Array.isArray(v) ? v : [v];
    return arr.filter((x): x is string => typeof x === 'string');
  }
}

/**
 * Stripe refuses dynamic payment methods and an explicit `payment_method_types` list on one
 * intent (pre-endive versions; endive has no `payment_method_types` at all).
 */
export function refuseAutomaticWithExplicitTypes(p: Params): void {
  const apm = p.raw.automatic_payment_methods;
  const enabled = apm && typeof apm === 'object' && !Array.isArray(apm) ? apm.enabled : undefined;
  if (apm !== undefined && enabled !== 'false' && p.has('payment_method_types')) {
    throw invalidRequest('You may only specify one of these parameters: automatic_payment_methods, payment_method_types.', { code: 'parameters_exclusive', param: 'automatic_payment_methods' });
  }
}
