import { currencyExponent } from '@kassa/core';
// mt940js (maintained, no dependencies) ships no types; the shape used here is its documented output.
import { Parser } from 'mt940js';
import { BankTransferError } from '../errors';
import type { ParsedStatement, StatementTransaction } from './transaction';

interface Mt940Transaction {
  date: Date;
  amount: number;
  currency: string;
  details: string;
  reference: string;
  bankReference: string;
  isReversal: boolean;
  structuredDetails?: Record<string, string>;
}
interface Mt940Statement {
  transactions: Mt940Transaction[];
}

function fail(where: string, reason: string): never {
  throw new BankTransferError('BANKTRANSFER_STATEMENT_INVALID', { format: 'MT940', where, reason });
}

/**
 * Reads a SWIFT MT940 statement with mt940js, which checks the mandatory tags, one currency per
 * statement and that the lines add up to the balance change. The German field-86 structure
 * (?20–?29 and ?60–?63 remittance, ?31 IBAN, ?32/?33 name) and the /REMI/ /NAME/ /IBAN/ style are
 * read into the common fields. A file that fails anywhere is refused whole, naming the line.
 */
export function parseMt940(content: string): ParsedStatement {
  const lines = content.split(/\r?\n/);
  let statements: Mt940Statement[];
  try {
    statements = new Parser().parse(content.replace(/\r\n/g, '\n')) as Mt940Statement[];
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    fail(locate(lines, reason), reason);
  }
  if (statements.length === 0) fail('line 1', 'no statement found (expected a :20: tag)');

  const tag61Lines = lines.map((l, i) => (l.startsWith(':61:') ? i + 1 : 0)).filter((n) => n > 0);
  const transactions: StatementTransaction[] = [];
  let index = 0;
  statements.forEach((s) => {
    for (const t of s.transactions) {
      const line = tag61Lines[index++] ?? 0;
      const where = `line ${line}`;
      const exponent = currencyExponent(t.currency);
      if (exponent === undefined) fail(where, `unknown currency "${t.currency}"`);
      // mt940js hands amounts over as numbers rounded to cents; scaling back is exact far beyond any real amount.
      if (exponent > 2) fail(where, `${t.currency} has ${exponent} decimals, which this MT940 reader cannot carry exactly`);
      const amount = Math.round(t.amount * 10 ** exponent);
      if (!Number.isSafeInteger(amount)) fail(where, 'amount too large');
      transactions.push({
        amount,
        currency: t.currency,
        bookingDate: t.date.toISOString().slice(0, 10),
        ...details86(t),
        // RC/RD: mt940js has already turned the sign to this entry's direction.
        reversal: t.isReversal === true,
        bankReference: bankReference(t.bankReference),
        source: where,
      });
    }
  });
  return { format: 'mt940', transactions };
}

function details86(t: Mt940Transaction): Pick<StatementTransaction, 'payerName' | 'payerIban' | 'reference'> {
  const sd = t.structuredDetails ?? {};
  const pick = (keys: string[]) => keys.map((k) => sd[k]).filter((v): v is string => !!v).join('');
  const german = Object.keys(sd).some((k) => /^\d\d$/.test(k));
  if (german) {
    // ?20–?29 continue each other (27 characters each); SEPA keywords (EREF+, SVWZ+ …) start a new part.
    const reference = pick(['20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '60', '61', '62', '63'])
      .replace(/(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT)\+/g, ' $1+ ').replace(/\s+/g, ' ');
    return { reference: reference.trim(), payerName: pick(['32', '33']).trim() || null, payerIban: sd['31']?.replace(/\s/g, '') || null };
  }
  if (sd.REMI || sd.NAME || sd.ORDP) {
    return { reference: (sd.REMI ?? '').trim(), payerName: (sd.NAME ?? sd.ORDP ?? '').trim() || null, payerIban: sd.IBAN?.trim() || null };
  }
  return { reference: t.details.replace(/\n/g, ' ').trim(), payerName: null, payerIban: null };
}

function bankReference(ref: string): string | null {
  const r = ref.trim();
  return r === '' || r.toUpperCase() === 'NONREF' ? null : r;
}

/** mt940js names the tag and its content, or the statement group; turn that into a line number. */
function locate(lines: string[], message: string): string {
  const tag = /Cannot parse tag (\w+): ([^\n]*)/.exec(message);
  if (tag) {
    const at = lines.findIndex((l) => l.startsWith(`:${tag[1]}`) && l.includes(tag[2]!.slice(0, 20)));
    if (at >= 0) return `line ${at + 1}`;
  }
  const unknown = /Unknown tag (\w+)/.exec(message);
  if (unknown) {
    const at = lines.findIndex((l) => l.startsWith(`:${unknown[1]}:`));
    if (at >= 0) return `line ${at + 1}`;
  }
  const group = /in group (\d+)/.exec(message);
  if (group) {
    const starts = lines.map((l, i) => (l.startsWith(':20:') ? i + 1 : 0)).filter((n) => n > 0);
    // mt940js counts statements from 1.
    const line = starts[Number(group[1]) - 1];
    return line ? `statement starting at line ${line}` : `statement ${group[1]}`;
  }
  return 'file';
}
