import { BankTransferError } from '../errors';
import { parseCamt053 } from './camt053';
import { parseCsvStatement } from './csv';
import type { CsvMapping } from './csv-mapping';
import { parseMt940 } from './mt940';
import type { ParsedStatement, StatementFormat } from './transaction';

/** Tells the format from the content (an upload's file name and type are not trusted). */
export function detectStatementFormat(content: string): StatementFormat {
  const head = content.replace(/^\uFEFF/, '').trimStart().slice(0, 2000);
  if (head.startsWith('<')) return 'camt053';
  if (/^(\{1:[^\n]*\n?)?:20:/m.test(head) || /^:20:/m.test(head)) return 'mt940';
  return 'csv';
}

/**
 * Reads a statement into transactions, all or nothing: the first line that cannot be read refuses
 * the file with that line named, and no transaction of it is returned.
 */
export function parseStatement(content: string, options: { format?: StatementFormat; csvMapping?: CsvMapping } = {}): ParsedStatement {
  const format = options.format ?? detectStatementFormat(content);
  if (format === 'camt053') return parseCamt053(content);
  if (format === 'mt940') return parseMt940(content);
  if (!options.csvMapping) throw new BankTransferError('BANKTRANSFER_STATEMENT_FORMAT_UNKNOWN', { reason: 'a CSV file needs the column mapping for its bank' });
  return parseCsvStatement(content, options.csvMapping);
}
