import { errorCodes, type ErrorCode } from './error-codes';

export type ErrorParams = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** The one error class for refusals. `code` is stable; `status` is the HTTP status to answer with. */
export class KassaError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly params: ErrorParams;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown }) {
    super(formatMessage(errorCodes[code].message, params), options);
    this.name = 'KassaError';
    this.code = code;
    this.status = errorCodes[code].status;
    this.params = params;
  }

  toJSON(): { code: ErrorCode; message: string; params: ErrorParams } {
    return { code: this.code, message: this.message, params: this.params };
  }
}

export function isKassaError(err: unknown, code?: ErrorCode): err is KassaError {
  return err instanceof KassaError && (code === undefined || err.code === code);
}

function formatMessage(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => (key in params ? String(params[key]) : `{${key}}`));
}
