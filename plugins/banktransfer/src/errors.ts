import { KassaError, defineErrors, type ErrorParams } from '@kassa/core';

/**
 * The bank transfer plugin's error catalogue (docs/errors.md, "Plugin banktransfer"): stable codes,
 * HTTP status and message templates with `{name}` placeholders filled from the params. Every
 * refusal names what was wrong (the settings field, the statement line or XML element), so an
 * organizer can fix the file and upload it again. Codes never change meaning.
 */
export const bankTransferErrors = defineErrors({
  BANKTRANSFER_SETTINGS_INVALID: {
    status: 400, message: 'Bank transfer settings are invalid: {detail}',
    guidance: 'Correct the named field in the bank transfer settings and save again.',
  },
  BANKTRANSFER_IBAN_INVALID: {
    status: 400, message: '{field}: "{value}" is not a valid IBAN ({reason})',
    guidance: 'Copy the IBAN from the bank\'s documents; its check digits must be right.',
  },
  BANKTRANSFER_BIC_INVALID: {
    status: 400, message: '{field}: "{value}" is not a valid BIC',
    guidance: 'A BIC has 8 or 11 characters; leave it empty inside SEPA.',
  },
  BANKTRANSFER_STATEMENT_FORMAT_UNKNOWN: {
    status: 400, message: 'The file is not a statement Kassa can read: {reason}',
    guidance: 'Upload a CAMT.053 (XML), MT940 or CSV export of the bank account; a CSV needs its column mapping.',
  },
  BANKTRANSFER_STATEMENT_INVALID: {
    status: 400, message: '{format} statement, {where}: {reason}',
    guidance: 'Fix or remove the named line and upload the file again; nothing of it was booked.',
  },
  BANKTRANSFER_CSV_MAPPING_INVALID: {
    status: 400, message: 'CSV column mapping is invalid: {detail}',
    guidance: 'Correct the named field of the column mapping.',
  },
  BANKTRANSFER_QR_UNAVAILABLE: {
    status: 409, message: 'No transfer QR code: {reason}',
    guidance: 'EPC QR codes exist for euro transfers to SEPA accounts only; turn the QR code off otherwise.',
  },
  BANKTRANSFER_SEPA_INVALID: {
    status: 400, message: 'Cannot build the SEPA transfer file: {detail}',
    guidance: 'Check the named refund\'s IBAN and amount, and the organizer\'s account settings.',
  },
  BANKTRANSFER_TRANSACTION_CLOSED: {
    status: 409, message: 'Transaction {transaction} was already {state}: nothing was changed',
    guidance: 'Reload the list of unmatched transactions; someone assigned or discarded it meanwhile.',
  },
  BANKTRANSFER_REFUND_SETTLED: {
    status: 409, message: 'Refund {refund} no longer waits to be paid out by bank transfer (marked done or canceled meanwhile): nothing was changed',
    guidance: 'Reload the refunds page; it lists the refunds still waiting. The order page shows what became of this one.',
  },
});

/** The codes and their definitions (the docs table lists them). */
export const bankTransferErrorCodes = bankTransferErrors;

export type BankTransferErrorCode = keyof typeof bankTransferErrors;
export type BankTransferErrorParams = ErrorParams;

/**
 * The plugin's refusal: a `KassaError` whose status and message come from this catalogue, so the
 * server renders it like core's. `code` is stable; `status` is the HTTP status to answer with.
 */
export class BankTransferError extends KassaError {
  declare readonly code: BankTransferErrorCode;

  constructor(code: BankTransferErrorCode, params: BankTransferErrorParams = {}, options?: { cause?: unknown }) {
    super(code, params, { ...(options?.cause === undefined ? {} : { cause: options.cause }), definition: bankTransferErrors[code] });
    this.name = 'BankTransferError';
  }
}

export function isBankTransferError(err: unknown, code?: BankTransferErrorCode): err is BankTransferError {
  return err instanceof BankTransferError && (code === undefined || err.code === code);
}
