import { errorCodes, type ErrorCatalogue, type ErrorCode, type ErrorDefinition } from './error-codes';

export type ErrorParams = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** A core code, or a code a plugin declared in its own catalogue (`definePlugin({ errors })`). */
export type AnyErrorCode = ErrorCode | (string & {});

/**
 * The one error class for refusals. `code` is stable; `status` is the HTTP status to answer with.
 * Core's codes come from core's catalogue; a plugin's codes from the plugin's own (see pluginError).
 */
export class KassaError extends Error {
  readonly code: AnyErrorCode;
  readonly status: number;
  readonly params: ErrorParams;

  constructor(code: ErrorCode, params?: ErrorParams, options?: { cause?: unknown });
  /** A code from another catalogue (a plugin's): its definition comes along. */
  constructor(code: string, params: ErrorParams, options: { cause?: unknown; definition: ErrorDefinition });
  constructor(code: string, params: ErrorParams = {}, options?: { cause?: unknown; definition?: ErrorDefinition }) {
    const def = options?.definition ?? (errorCodes as ErrorCatalogue)[code];
    if (!def) throw new Error(`KassaError: unknown error code ${code} (declare it in the plugin's errors catalogue)`);
    super(formatMessage(def.message, params), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KassaError';
    this.code = code;
    this.status = def.status;
    this.params = params;
  }

  toJSON(): { code: AnyErrorCode; message: string; params: ErrorParams } {
    return { code: this.code, message: this.message, params: this.params };
  }
}

export function isKassaError(err: unknown, code?: AnyErrorCode): err is KassaError {
  return err instanceof KassaError && (code === undefined || err.code === code);
}

/**
 * Declares a package's error catalogue (a plugin's `errors`), keeping its literal codes as types.
 * Codes are shared by core and every plugin: prefix them with the plugin's name (STRIPE_…).
 */
export function defineErrors<const C extends ErrorCatalogue>(catalogue: C): C {
  return Object.freeze(catalogue);
}

/**
 * A refusal with one of the plugin's own codes.
 *
 * @example throw pluginError(stripeErrors, 'STRIPE_PAYMENT_BUSY', { payment: id });
 */
export function pluginError<C extends ErrorCatalogue>(catalogue: C, code: keyof C & string, params: ErrorParams = {}, options: { cause?: unknown } = {}): KassaError {
  const definition = catalogue[code];
  if (!definition) throw new Error(`pluginError: ${code} is not in this catalogue`);
  return new KassaError(code, params, { ...options, definition });
}

function formatMessage(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => (key in params ? String(params[key]) : `{${key}}`));
}
