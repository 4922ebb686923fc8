import { KassaError } from '../errors';
import { createAjv, describeAjvErrors } from '../settings/json-schema';
import { configKeys, configSchema, renamedConfigKeys, type AppConfig } from './config.schema';

/** Environment variables with this prefix belong to Kassa: one that the schema does not know is a typo. */
const ownPrefix = 'KASSA_';

// Coercion turns PORT="3000" into 3000; defaults fill what is unset. Compiled once per process.
const validate = createAjv({ coerceTypes: true, useDefaults: true }).compile(configSchema);

/**
 * Reads the configuration from the environment once at start: validates it against the one schema,
 * fills defaults, and returns a frozen object. Refuses with CONFIG_INVALID naming every bad key,
 * including unknown `KASSA_*` variables (other variables, such as PATH, are not Kassa's and are
 * ignored). Empty values count as unset, as in most `.env` files.
 *
 * @example const config = loadConfig(process.env); // once, in main.ts
 */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): AppConfig {
  const picked: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if ((configKeys as string[]).includes(key) || key.startsWith(ownPrefix)) picked[key] = value;
  }
  return parseConfig(picked);
}

/**
 * Validates an explicit configuration object (tests, or a config file). Every key must be known.
 */
export function parseConfig(input: Record<string, unknown>): AppConfig {
  const candidate: Record<string, unknown> = { ...input };
  if (!validate(candidate)) {
    let detail = describeAjvErrors(validate.errors, 'is not a known configuration key');
    for (const [wrong, right] of Object.entries(renamedConfigKeys)) {
      detail = detail.replace(`${wrong} is not a known configuration key`, `${wrong} is not a known configuration key (use ${right})`);
    }
    throw new KassaError('CONFIG_INVALID', { detail });
  }
  const cfg = candidate as Omit<AppConfig, 'BASE_URL'> & { BASE_URL?: string };
  if (cfg.KASSA_SECRET_KEY !== undefined) decodeSecretKey(cfg.KASSA_SECRET_KEY); // length check beyond the pattern
  if (cfg.KASSA_INSTANCE_SETTINGS !== undefined) parseInstanceSettings(cfg.KASSA_INSTANCE_SETTINGS); // the shape, at start
  const baseUrl = (cfg.BASE_URL ?? `http://${hostForUrl(cfg.HOST)}:${cfg.PORT}`).replace(/\/+$/, '');
  return Object.freeze({ ...cfg, BASE_URL: baseUrl });
}

/** Instance-level settings by namespace, as KASSA_INSTANCE_SETTINGS gives them. */
export type InstanceSettings = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/**
 * Reads KASSA_INSTANCE_SETTINGS: a JSON object of namespaces, each an object of keys. Refuses with
 * CONFIG_INVALID naming what is wrong; whether the namespaces and values exist is checked when
 * they are written (applyInstanceSettings), against the schemas the plugins registered.
 */
export function parseInstanceSettings(json: string | undefined): InstanceSettings {
  if (json === undefined || json.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new KassaError('CONFIG_INVALID', { detail: `KASSA_INSTANCE_SETTINGS is not valid JSON (${err instanceof Error ? err.message : String(err)})` });
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(parsed)) throw new KassaError('CONFIG_INVALID', { detail: 'KASSA_INSTANCE_SETTINGS must be a JSON object of settings namespaces, e.g. {"payment.stripe": {"secretKey": "…"}}' });
  for (const [namespace, values] of Object.entries(parsed)) {
    if (!isObject(values)) throw new KassaError('CONFIG_INVALID', { detail: `KASSA_INSTANCE_SETTINGS.${namespace} must be an object of settings` });
  }
  return parsed as InstanceSettings;
}

/**
 * The 32 raw key bytes of KASSA_SECRET_KEY (64 hex digits, or base64/base64url).
 * Refuses with CONFIG_INVALID when the value does not decode to exactly 32 bytes.
 */
export function decodeSecretKey(value: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, 'hex')
    : Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) {
    throw new KassaError('CONFIG_INVALID', { detail: `KASSA_SECRET_KEY must be 32 bytes as 64 hex digits or base64, got ${key.length} bytes` });
  }
  return key;
}

function hostForUrl(host: string): string {
  // 0.0.0.0 / :: listen everywhere but are not addresses a browser can open.
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
