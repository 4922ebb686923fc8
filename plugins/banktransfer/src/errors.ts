/**
 * The bank transfer plugin's error catalogue: stable codes, HTTP status and message templates with
 * `{name}` placeholders filled from the params. Every refusal names what was wrong (the settings
 * field, the statement line or XML element), so an organizer can fix the file and upload it again.
 *
 * Registered with core's error handling once the plugin port carries plugin catalogues (issue 12);
 * until then these errors stand alone and are plain `Error`s with a code.
 */
export const bankTransferErrorCodes = {
  BANKTRANSFER_SETTINGS_INVALID: { status: 400, message: 'Bank transfer settings are invalid: {detail}' },
  BANKTRANSFER_IBAN_INVALID: { status: 400, message: '{field}: "{value}" is not a valid IBAN ({reason})' },
  BANKTRANSFER_BIC_INVALID: { status: 400, message: '{field}: "{value}" is not a valid BIC' },
  BANKTRANSFER_STATEMENT_FORMAT_UNKNOWN: { status: 400, message: 'The file is not a statement Kassa can read: {reason}' },
  BANKTRANSFER_STATEMENT_INVALID: { status: 400, message: '{format} statement, {where}: {reason}' },
  BANKTRANSFER_CSV_MAPPING_INVALID: { status: 400, message: 'CSV column mapping is invalid: {detail}' },
  BANKTRANSFER_QR_UNAVAILABLE: { status: 409, message: 'No transfer QR code: {reason}' },
  BANKTRANSFER_SEPA_INVALID: { status: 400, message: 'Cannot build the SEPA transfer file: {detail}' },
} as const;

export type BankTransferErrorCode = keyof typeof bankTransferErrorCodes;
export type BankTransferErrorParams = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** The one error class of this plugin. `code` is stable; `status` is the HTTP status to answer with. */
export class BankTransferError extends Error {
  readonly code: BankTransferErrorCode;
  readonly status: number;
  readonly params: BankTransferErrorParams;

  constructor(code: BankTransferErrorCode, params: BankTransferErrorParams = {}, options?: { cause?: unknown }) {
    super(fill(bankTransferErrorCodes[code].message, params), options);
    this.name = 'BankTransferError';
    this.code = code;
    this.status = bankTransferErrorCodes[code].status;
    this.params = params;
  }

  toJSON(): { code: BankTransferErrorCode; message: string; params: BankTransferErrorParams } {
    return { code: this.code, message: this.message, params: this.params };
  }
}

export function isBankTransferError(err: unknown, code?: BankTransferErrorCode): err is BankTransferError {
  return err instanceof BankTransferError && (code === undefined || err.code === code);
}

function fill(template: string, params: BankTransferErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => (key in params ? String(params[key]) : `{${key}}`));
}
