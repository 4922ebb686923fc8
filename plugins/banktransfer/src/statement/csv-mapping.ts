import { createAjv, describeAjvErrors, isCurrencyCode, type JsonSchema } from '@kassa/core';
import { BankTransferError } from '../errors';

/** How dates are written in a bank's CSV export. */
export const csvDateFormats = ['YYYY-MM-DD', 'YYYYMMDD', 'DD.MM.YYYY', 'DD.MM.YY', 'DD/MM/YYYY', 'MM/DD/YYYY'] as const;
export type CsvDateFormat = (typeof csvDateFormats)[number];

/**
 * What the columns of one bank's CSV export mean, saved once per bank by the organizer (as pretix
 * asks on the first upload). Columns are 0-based positions; payer and reference may be spread over
 * several columns, joined by a space.
 *
 * Signs, the part banks disagree on most:
 * - `signed`: one amount column, debits carry a minus (leading or trailing);
 * - `split`: a credit column and a debit column, one of them filled per row;
 * - `indicator`: an unsigned amount plus a column saying credit or debit ("H"/"S", "CR"/"DR").
 */
export interface CsvMapping {
  readonly delimiter: ',' | ';' | '\t' | '|';
  /** Rows before the first transaction (title lines and the header row). */
  readonly skipRows: number;
  readonly decimalSeparator: '.' | ',';
  readonly dateFormat: CsvDateFormat;
  /** Used when there is no currency column. */
  readonly currency: string;
  readonly sign: 'signed' | 'split' | 'indicator';
  readonly columns: {
    readonly date: number;
    readonly amount?: number;
    readonly credit?: number;
    readonly debit?: number;
    readonly indicator?: number;
    readonly currency?: number;
    readonly payer?: readonly number[];
    readonly iban?: number;
    readonly reference: readonly number[];
    readonly bankReference?: number;
  };
  /** For `indicator`: the values that mean money in (compared case-insensitively). */
  readonly creditValues?: readonly string[];
  readonly debitValues?: readonly string[];
}

const column = { type: 'integer', minimum: 0, maximum: 200 };
const columns = { type: 'array', items: column, maxItems: 10 };

export const csvMappingSchema: JsonSchema = {
  type: 'object',
  properties: {
    delimiter: { type: 'string', enum: [',', ';', '\t', '|'] },
    skipRows: { type: 'integer', minimum: 0, maximum: 50 },
    decimalSeparator: { type: 'string', enum: ['.', ','] },
    dateFormat: { type: 'string', enum: [...csvDateFormats] },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    sign: { type: 'string', enum: ['signed', 'split', 'indicator'] },
    columns: {
      type: 'object',
      properties: {
        date: column, amount: column, credit: column, debit: column, indicator: column, currency: column,
        payer: columns, iban: column, reference: { ...columns, minItems: 1 }, bankReference: column,
      },
      required: ['date', 'reference'],
      additionalProperties: false,
    },
    creditValues: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    debitValues: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
  },
  required: ['delimiter', 'skipRows', 'decimalSeparator', 'dateFormat', 'currency', 'sign', 'columns'],
  additionalProperties: false,
};

let validate: ReturnType<ReturnType<typeof createAjv>['compile']> | undefined;

/** Checks a mapping as the organizer saves it; refuses with the field named. */
export function parseCsvMapping(input: unknown): CsvMapping {
  validate ??= createAjv().compile(csvMappingSchema);
  if (!validate(input)) throw new BankTransferError('BANKTRANSFER_CSV_MAPPING_INVALID', { detail: describeAjvErrors(validate.errors) });
  const m = input as CsvMapping;
  const need = (ok: boolean, detail: string) => {
    if (!ok) throw new BankTransferError('BANKTRANSFER_CSV_MAPPING_INVALID', { detail });
  };
  need(isCurrencyCode(m.currency), `currency ${m.currency} is not a known currency`);
  if (m.sign === 'signed') need(m.columns.amount !== undefined, 'columns.amount is required when sign is "signed"');
  if (m.sign === 'split') need(m.columns.credit !== undefined && m.columns.debit !== undefined, 'columns.credit and columns.debit are required when sign is "split"');
  if (m.sign === 'indicator') {
    need(m.columns.amount !== undefined && m.columns.indicator !== undefined, 'columns.amount and columns.indicator are required when sign is "indicator"');
    need(!!m.creditValues && !!m.debitValues, 'creditValues and debitValues are required when sign is "indicator"');
  }
  return m;
}
