import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BankTransferError } from '../errors';
import { decimalToMinorUnits } from './amount';
import type { ParsedStatement, StatementTransaction } from './transaction';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  // Keep every value as text: "0012" stays "0012" and amounts never pass through a float.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ['Stmt', 'Ntry', 'NtryDtls', 'TxDtls', 'Ustrd'].includes(name),
  processEntities: true,
});

function fail(where: string, reason: string): never {
  throw new BankTransferError('BANKTRANSFER_STATEMENT_INVALID', { format: 'CAMT.053', where, reason });
}

/**
 * Reads an ISO 20022 camt.053 bank-to-customer statement (any 001.02–001.13 version: namespaces are
 * dropped). Only booked entries are taken; an entry that carries several transactions (a batch)
 * becomes one transaction each. Any malformed entry refuses the whole file, naming the element.
 */
export function parseCamt053(xml: string): ParsedStatement {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) fail(`line ${valid.err.line}`, `not well-formed XML: ${valid.err.msg}`);
  // ISO 20022 messages carry no DTD; one here could only define entities to blow the file up.
  const doctype = /<!DOCTYPE/i.exec(xml);
  if (doctype) fail(`line ${xml.slice(0, doctype.index).split('\n').length}`, 'a DOCTYPE declaration is not allowed in a camt.053 statement');
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch (err) {
    fail('Document', `the XML cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const root = obj(doc.Document);
  const statements = root && arr(obj(root.BkToCstmrStmt)?.Stmt);
  if (!statements) fail('Document', 'no BkToCstmrStmt/Stmt element: this is not a camt.053 statement');

  const transactions: StatementTransaction[] = [];
  statements.forEach((stmtNode, si) => {
    const stmt = obj(stmtNode) ?? {};
    arr(stmt.Ntry)?.forEach((entryNode, ei) => {
      const where = `Stmt[${si + 1}]/Ntry[${ei + 1}]`;
      const entry = obj(entryNode) ?? fail(where, 'empty entry');
      if (!isBooked(entry.Sts)) return; // pending and informational entries are not money yet
      const details = (arr(entry.NtryDtls) ?? []).flatMap((d) => arr(obj(d)?.TxDtls) ?? []).map((d) => obj(d) ?? {});
      const entryAmount = readAmount(entry.Amt, `${where}/Amt`);
      const sign = creditDebit(entry, where);
      const bookingDate = readDate(obj(entry.BookgDt), `${where}/BookgDt`);
      const entryRef = text(entry.AcctSvcrRef);
      const reversal = text(entry.RvslInd) === 'true';
      if (details.length <= 1) {
        transactions.push({ ...counterparty(details[0] ?? {}, sign), amount: sign * entryAmount.amount, currency: entryAmount.currency, bookingDate, reference: remittance(details[0] ?? entry) || (text(entry.AddtlNtryInf) ?? ''), reversal, bankReference: entryRef ?? txRef(details[0]), source: where });
        return;
      }
      const batch: StatementTransaction[] = [];
      details.forEach((tx, ti) => {
        const txWhere = `${where}/NtryDtls/TxDtls[${ti + 1}]`;
        const amt = obj(tx.AmtDtls) ? obj(obj(obj(tx.AmtDtls)!.TxAmt))?.Amt : tx.Amt;
        if (amt === undefined) fail(txWhere, 'a batch entry needs an amount per transaction (Amt or AmtDtls/TxAmt/Amt)');
        const amount = readAmount(amt, `${txWhere}/Amt`);
        const txSign = text(tx.CdtDbtInd) ? creditDebit(tx, txWhere) : sign;
        const ref = txRef(tx) ?? (entryRef ? `${entryRef}/${ti + 1}` : null);
        if (amount.currency !== entryAmount.currency) fail(`${txWhere}/Amt`, `currency ${amount.currency} differs from the entry's ${entryAmount.currency}`);
        batch.push({ ...counterparty(tx, txSign), amount: txSign * amount.amount, currency: amount.currency, bookingDate, reference: remittance(tx), reversal, bankReference: ref, source: txWhere });
      });
      // A batch whose parts do not add up to what was booked cannot be split safely.
      const parts = batch.reduce((a, t) => a + t.amount, 0);
      if (parts !== sign * entryAmount.amount) fail(where, `the batch's transactions add up to ${parts} minor units, but the entry books ${sign * entryAmount.amount}`);
      transactions.push(...batch);
    });
  });
  return { format: 'camt053', transactions };
}

function isBooked(sts: unknown): boolean {
  const code = text(sts) ?? text(obj(sts)?.Cd);
  return code === 'BOOK';
}

function creditDebit(node: Node, where: string): 1 | -1 {
  const ind = text(node.CdtDbtInd);
  if (ind !== 'CRDT' && ind !== 'DBIT') fail(`${where}/CdtDbtInd`, `expected CRDT or DBIT, got "${ind ?? ''}"`);
  // With RvslInd the indicator still gives this entry's own direction (CRDT: a debit came back).
  return ind === 'CRDT' ? 1 : -1;
}

function readAmount(node: unknown, where: string): { amount: number; currency: string } {
  const o = obj(node);
  const value = o ? text(o['#text']) : text(node);
  const currency = o ? text(o['@Ccy']) : undefined;
  if (!value || !currency) fail(where, 'amount or its Ccy attribute is missing');
  if (!/^\d+(\.\d+)?$/.test(value)) fail(where, `"${value}" is not an ISO 20022 amount (digits with a decimal point)`);
  const parsed = decimalToMinorUnits(value, currency, '.');
  if (!parsed.ok) fail(where, parsed.reason);
  if (parsed.amount < 0) fail(where, 'amounts are unsigned; CdtDbtInd gives the direction');
  return { amount: parsed.amount, currency };
}

function readDate(node: Node | undefined, where: string): string {
  const value = text(node?.Dt) ?? text(node?.DtTm)?.slice(0, 10);
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) fail(where, `expected Dt or DtTm, got "${value ?? ''}"`);
  return value;
}

function counterparty(tx: Node, sign: 1 | -1): Pick<StatementTransaction, 'payerName' | 'payerIban'> {
  const parties = obj(tx.RltdPties) ?? {};
  const party = obj(sign === 1 ? parties.Dbtr : parties.Cdtr) ?? {};
  const account = obj(sign === 1 ? parties.DbtrAcct : parties.CdtrAcct);
  // camt.053.001.08+ wraps the party in Pty.
  const name = text(party.Nm) ?? text(obj(party.Pty)?.Nm) ?? null;
  const iban = text(obj(account?.Id)?.IBAN) ?? null;
  return { payerName: name, payerIban: iban };
}

function remittance(node: Node): string {
  const info = obj(node.RmtInf);
  if (!info) return text(node.AddtlNtryInf) ?? text(node.AddtlTxInf) ?? '';
  const unstructured = (arr(info.Ustrd) ?? []).map(text).filter((t): t is string => !!t);
  const structured = text(obj(obj(info.Strd)?.CdtrRefInf)?.Ref);
  return [...unstructured, ...(structured ? [structured] : [])].join(' ');
}

function txRef(tx: Node | undefined): string | null {
  const refs = obj(tx?.Refs);
  return text(refs?.AcctSvcrRef) ?? text(refs?.TxId) ?? null;
}

function obj(v: unknown): Node | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined;
}

function arr(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
}
