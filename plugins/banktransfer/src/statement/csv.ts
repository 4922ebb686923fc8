import { parse } from 'csv-parse/sync';
import { BankTransferError } from '../errors';
import { decimalToMinorUnits } from './amount';
import type { CsvDateFormat, CsvMapping } from './csv-mapping';
import type { ParsedStatement, StatementTransaction } from './transaction';

function fail(line: number | string, reason: string): never {
  throw new BankTransferError('BANKTRANSFER_STATEMENT_INVALID', { format: 'CSV', where: typeof line === 'number' ? `line ${line}` : line, reason });
}

/**
 * Reads a bank's CSV export with csv-parse and the organizer's column mapping. Rows whose cells are
 * all empty (trailing lines, some banks' footers) are skipped; any other row that cannot be read
 * refuses the whole file, naming its line.
 */
export function parseCsvStatement(content: string, mapping: CsvMapping): ParsedStatement {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(content.replace(/^\uFEFF/, ''), {
      delimiter: mapping.delimiter,
      from_line: mapping.skipRows + 1,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as { lines?: number; message?: string };
    fail(e.lines ?? 'file', e.message ?? String(err));
  }

  const transactions: StatementTransaction[] = [];
  for (const { record, info } of records) {
    const line = info.lines;
    if (record.every((cell) => cell.trim() === '')) continue;
    const cell = (index: number | undefined, name: string, required = true): string => {
      if (index === undefined) return '';
      const value = record[index];
      if (value === undefined) {
        if (required) fail(line, `has no column ${index + 1} (${name}); it has ${record.length}`);
        return '';
      }
      return value.trim();
    };
    const joined = (indexes: readonly number[] | undefined, name: string) =>
      (indexes ?? []).map((i) => cell(i, name)).filter((v) => v !== '').join(' ').replace(/\s+/g, ' ');

    const currency = (cell(mapping.columns.currency, 'currency') || mapping.currency).toUpperCase();
    const amount = readAmount(mapping, cell, currency, line);
    transactions.push({
      amount,
      currency,
      bookingDate: readDate(cell(mapping.columns.date, 'date'), mapping.dateFormat, line),
      payerName: joined(mapping.columns.payer, 'payer') || null,
      payerIban: cell(mapping.columns.iban, 'IBAN', false).replace(/\s/g, '').toUpperCase() || null,
      reference: joined(mapping.columns.reference, 'reference'),
      reversal: false,
      bankReference: cell(mapping.columns.bankReference, 'bank reference', false) || null,
      source: `line ${line}`,
    });
  }
  return { format: 'csv', transactions };
}

function readAmount(m: CsvMapping, cell: (i: number | undefined, name: string) => string, currency: string, line: number): number {
  const read = (raw: string, name: string): number => {
    const parsed = decimalToMinorUnits(raw, currency, m.decimalSeparator);
    if (!parsed.ok) fail(line, `${name}: ${parsed.reason}`);
    return parsed.amount;
  };
  if (m.sign === 'signed') return read(cell(m.columns.amount, 'amount'), 'amount');
  if (m.sign === 'split') {
    const credit = cell(m.columns.credit, 'credit');
    const debit = cell(m.columns.debit, 'debit');
    if ((credit === '') === (debit === '')) fail(line, 'exactly one of the credit and debit columns must hold an amount');
    return credit !== '' ? Math.abs(read(credit, 'credit')) : -Math.abs(read(debit, 'debit'));
  }
  const amount = Math.abs(read(cell(m.columns.amount, 'amount'), 'amount'));
  const indicator = cell(m.columns.indicator, 'credit/debit indicator').toUpperCase();
  if (m.creditValues?.some((v) => v.toUpperCase() === indicator)) return amount;
  if (m.debitValues?.some((v) => v.toUpperCase() === indicator)) return -amount;
  return fail(line, `credit/debit indicator "${indicator}" is neither ${m.creditValues?.join('/')} nor ${m.debitValues?.join('/')}`);
}

function readDate(raw: string, format: CsvDateFormat, line: number): string {
  const patterns: Record<CsvDateFormat, RegExp> = {
    'YYYY-MM-DD': /^(?<y>\d{4})-(?<m>\d{2})-(?<d>\d{2})$/,
    'YYYYMMDD': /^(?<y>\d{4})(?<m>\d{2})(?<d>\d{2})$/,
    'DD.MM.YYYY': /^(?<d>\d{1,2})\.(?<m>\d{1,2})\.(?<y>\d{4})$/,
    'DD.MM.YY': /^(?<d>\d{1,2})\.(?<m>\d{1,2})\.(?<y>\d{2})$/,
    'DD/MM/YYYY': /^(?<d>\d{1,2})\/(?<m>\d{1,2})\/(?<y>\d{4})$/,
    'MM/DD/YYYY': /^(?<m>\d{1,2})\/(?<d>\d{1,2})\/(?<y>\d{4})$/,
  };
  const g = patterns[format].exec(raw)?.groups;
  if (!g) return fail(line, `date "${raw}" is not in the format ${format}`);
  const year = g.y!.length === 2 ? 2000 + Number(g.y) : Number(g.y);
  const month = Number(g.m);
  const day = Number(g.d);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) fail(line, `date "${raw}" does not exist`);
  return date.toISOString().slice(0, 10);
}
