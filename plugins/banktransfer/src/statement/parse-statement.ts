import { BankTransferError } from '../errors';
import { parseCamt053 } from './camt053';
import { parseCsvStatement } from './csv';
import type { CsvMapping } from './csv-mapping';
import { parseMt940 } from './mt940';
import type { ParsedStatement, StatementFormat } from './transaction';

/**
 * Turns an uploaded file into text: UTF-8 (with or without BOM) when it is valid UTF-8, otherwise
 * Windows-1252, which many banks' CSV and MT940 exports still use ("M\xfcller" reads as "Müller").
 */
export function decodeStatementBytes(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    // Node's decoder treats windows-1252 as Latin-1; the 0x80–0x9F block differs (€, „, Š …).
    return Array.from(bytes, (b) => String.fromCharCode(b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80]! : b)).join('');
  }
}

const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

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
