import type { JsonSchema } from './base-payment-provider';
import { MAX_ENTERED_AMOUNT } from '../money/money';

/**
 * The framework-level settings every provider has (pretix's leading-underscore settings). They are
 * stored in the provider's own settings namespace next to its own keys; the leading underscore keeps
 * the two apart, so a provider's own keys must not start with one.
 *
 * Amounts are integer minor units in the event's currency. `_feePercent` is a decimal string below
 * 100 with at most four decimals ("2.9" means 2.9 %), never a float, so the fee is computed exactly.
 * Dates are ISO 8601 date-times with an offset, compared as instants.
 */
export const commonSettingsProperties = {
  _enabled: { type: 'boolean', title: 'Enabled' },
  _feeAbs: { type: 'integer', minimum: 0, maximum: MAX_ENTERED_AMOUNT, title: 'Fixed fee (minor units)' },
  _feePercent: { type: 'string', pattern: '^\\d{1,2}(?:\\.\\d{1,4})?$', title: 'Percentage fee below 100, e.g. "2.9"' },
  _feeReverseCalc: { type: 'boolean', title: 'Calculate the fee so that the organizer receives the full price' },
  _availabilityStart: { type: 'string', format: 'date-time', title: 'Available from' },
  _availabilityEnd: { type: 'string', format: 'date-time', title: 'Available until' },
  _totalMin: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, title: 'Minimum order total (minor units)' },
  _totalMax: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, title: 'Maximum order total (minor units)' },
  _restrictedCountries: {
    type: 'array', items: { type: 'string', pattern: '^[A-Z]{2}$' }, uniqueItems: true,
    title: 'Only for buyers in these countries (ISO 3166-1 alpha-2)',
  },
} as const satisfies Record<string, JsonSchema>;

export type CommonSettingKey = keyof typeof commonSettingsProperties;
export const commonSettingKeys = Object.keys(commonSettingsProperties) as CommonSettingKey[];

/** The typed view of the framework-level settings, as core and the services read them. */
export interface ProviderCommonSettings {
  readonly enabled: boolean;
  /** Fixed fee in minor units of the event's currency. */
  readonly feeAbs: number;
  /** Percentage fee as a decimal string below 100 with at most four decimals, e.g. "2.9". */
  readonly feePercent: string;
  /** Reverse calculation (pretix's default): the fee covers its own percentage. */
  readonly feeReverseCalc: boolean;
  readonly availabilityStart: Date | null;
  readonly availabilityEnd: Date | null;
  /** Minimum order total (excluding this provider's fee) in minor units, or null. */
  readonly totalMin: number | null;
  readonly totalMax: number | null;
  /** Empty: no restriction. */
  readonly restrictedCountries: readonly string[];
}

/** Defaults for a provider nobody configured: disabled (unless it says otherwise), no fee, no limits. */
export function commonSettingDefaults(enabledByDefault: boolean): Record<string, unknown> {
  return { _enabled: enabledByDefault, _feeAbs: 0, _feePercent: '0', _feeReverseCalc: true, _restrictedCountries: [] };
}

/** Reads the typed view from a resolved (already validated) settings record. */
export function toCommonSettings(values: Readonly<Record<string, unknown>>, enabledByDefault = false): ProviderCommonSettings {
  const v = { ...commonSettingDefaults(enabledByDefault), ...values };
  const date = (x: unknown): Date | null => (typeof x === 'string' ? new Date(x) : null);
  const int = (x: unknown): number | null => (typeof x === 'number' && Number.isSafeInteger(x) ? x : null);
  const feePercent = typeof v._feePercent === 'string' ? v._feePercent : '0';
  return Object.freeze({
    enabled: v._enabled === true,
    feeAbs: int(v._feeAbs) ?? 0,
    feePercent,
    feeReverseCalc: v._feeReverseCalc !== false,
    availabilityStart: date(v._availabilityStart),
    availabilityEnd: date(v._availabilityEnd),
    totalMin: int(v._totalMin),
    totalMax: int(v._totalMax),
    restrictedCountries: Object.freeze(Array.isArray(v._restrictedCountries) ? v._restrictedCountries.filter((c): c is string => typeof c === 'string') : []),
  });
}

const providerSchemaKeywords = new Set(['type', 'properties', 'required', 'additionalProperties', 'title', 'description', '$comment', '$id', '$schema']);

/**
 * Checks that a provider's settings schema has the shape core can merge with the framework settings:
 * a flat object schema (type "object", properties, required) whose keys do not start with "_".
 * Returns a reason, or null when it is fine.
 */
export function checkProviderSettingsSchema(schema: JsonSchema): string | null {
  if (schema.type !== 'object') return 'settingsSchema must be an object schema (type "object")';
  for (const key of Object.keys(schema)) {
    if (!providerSchemaKeywords.has(key)) return `settingsSchema may not use the top-level keyword "${key}" (only a flat object schema is merged with the framework settings)`;
  }
  const props = schema.properties ?? {};
  if (typeof props !== 'object' || props === null || Array.isArray(props)) return 'settingsSchema.properties must be an object';
  for (const key of Object.keys(props)) {
    if (key.startsWith('_')) return `settingsSchema property "${key}" starts with "_", which is reserved for framework settings`;
  }
  const required = schema.required ?? [];
  if (!Array.isArray(required) || required.some((r) => typeof r !== 'string' || !(r in props))) {
    return 'settingsSchema.required must list properties of the schema';
  }
  return null;
}

/** The schema of a provider's namespace: the framework settings plus the provider's own. */
export function composeProviderSettingsSchema(schema: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: { ...commonSettingsProperties, ...(schema.properties as Record<string, JsonSchema> | undefined) },
    required: [...((schema.required as string[] | undefined) ?? [])],
    additionalProperties: false,
  };
}

/** The settings namespace of a provider, as stored in the `setting` table. */
export function providerNamespace(identifier: string): string {
  return `payment.${identifier}`;
}

/** Rules across framework fields that the JSON Schema cannot express; names the fields. */
export function checkCommonSettings(values: Readonly<Record<string, unknown>>): string | null {
  const { _totalMin: min, _totalMax: max, _availabilityStart: start, _availabilityEnd: end } = values;
  if (typeof min === 'number' && typeof max === 'number' && min > max) return `_totalMin (${min}) must not exceed _totalMax (${max})`;
  if (typeof start === 'string' && typeof end === 'string' && Date.parse(start) >= Date.parse(end)) {
    return `_availabilityStart (${start}) must lie before _availabilityEnd (${end})`;
  }
  return null;
}
