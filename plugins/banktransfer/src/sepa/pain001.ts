import { createHash } from 'node:crypto';
import { minorUnitsToDecimalString, type Money } from '@kassa/core';
import { create } from 'xmlbuilder2';
import { BankTransferError } from '../errors';
import { ibanProblem, isSepaIban, isValidBic, normalizeBic, normalizeIban } from '../iban';

export const PAIN001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03';

/** One refund to pay out by bank transfer. */
export interface SepaRefund {
  /** Our refund row's id: the end-to-end id the buyer's bank passes on, and part of the message id. */
  readonly refundId: string | number;
  readonly amount: Money;
  readonly creditorName: string;
  readonly creditorIban: string;
  readonly creditorBic?: string;
  /** Shown on the buyer's statement, e.g. "Refund DEMO-ABC12". */
  readonly remittance: string;
}

export interface SepaExportInput {
  /** The organizer's account the money leaves from (the plugin's settings). */
  readonly debtor: { readonly name: string; readonly iban: string; readonly bic?: string };
  readonly refunds: readonly SepaRefund[];
  /** When the file is made (from the injected clock). */
  readonly createdAt: Date;
  /** Requested execution date, YYYY-MM-DD. */
  readonly executionDate: string;
}

export interface SepaExport {
  readonly messageId: string;
  readonly xml: string;
  readonly count: number;
  /** Sum of all refunds, minor units of EUR. */
  readonly total: number;
}

/**
 * A SEPA credit transfer initiation (pain.001.001.03, the version every SEPA bank accepts) paying
 * out the given refunds in one batch. Amounts are written from minor units as exact decimals; every
 * IBAN and BIC is checked first, naming the refund. The message id is derived from the refund ids,
 * so exporting the same refunds again gives the same id and the bank refuses the duplicate file.
 */
export function buildPain001(input: SepaExportInput): SepaExport {
  const problems: string[] = [];
  if (input.refunds.length === 0) problems.push('no refunds to export');
  if (ibanProblem(input.debtor.iban)) problems.push(`debtor IBAN: ${ibanProblem(input.debtor.iban)}`);
  else if (!isSepaIban(input.debtor.iban)) problems.push('debtor IBAN is not in a SEPA country');
  if (input.debtor.bic && !isValidBic(input.debtor.bic)) problems.push('debtor BIC is not valid');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.executionDate)) problems.push(`executionDate "${input.executionDate}" is not YYYY-MM-DD`);
  const ids = new Set<string>();
  for (const r of input.refunds) {
    const who = `refund ${r.refundId}`;
    if (ids.has(String(r.refundId))) problems.push(`${who} is listed twice`);
    ids.add(String(r.refundId));
    if (r.amount.currency !== 'EUR') problems.push(`${who}: SEPA transfers are in EUR, not ${r.amount.currency}`);
    if (!Number.isSafeInteger(r.amount.amount) || r.amount.amount < 1 || r.amount.amount > 99_999_999_999) problems.push(`${who}: amount must be between 0.01 and 999999999.99`);
    const ibanIssue = ibanProblem(r.creditorIban);
    if (ibanIssue) problems.push(`${who}: creditor IBAN ${ibanIssue}`);
    else if (!isSepaIban(r.creditorIban)) problems.push(`${who}: creditor IBAN is not in a SEPA country`);
    if (r.creditorBic && !isValidBic(r.creditorBic)) problems.push(`${who}: creditor BIC is not valid`);
    if (!sepaText(r.creditorName, 70)) problems.push(`${who}: creditor name is empty`);
    if (`KASSA-REFUND-${r.refundId}`.length > 35) problems.push(`${who}: id too long for an end-to-end id`);
  }
  if (problems.length > 0) throw new BankTransferError('BANKTRANSFER_SEPA_INVALID', { detail: problems.join('; ') });

  const total = input.refunds.reduce((a, r) => a + r.amount.amount, 0);
  const ctrlSum = minorUnitsToDecimalString({ amount: total, currency: 'EUR' });
  const count = String(input.refunds.length);
  const messageId = messageIdFor(input.refunds.map((r) => String(r.refundId)));

  const doc = create({ version: '1.0', encoding: 'UTF-8' })
    .ele(PAIN001_NAMESPACE, 'Document')
    .ele('CstmrCdtTrfInitn');
  const header = doc.ele('GrpHdr');
  header.ele('MsgId').txt(messageId);
  header.ele('CreDtTm').txt(input.createdAt.toISOString().slice(0, 19));
  header.ele('NbOfTxs').txt(count);
  header.ele('CtrlSum').txt(ctrlSum);
  header.ele('InitgPty').ele('Nm').txt(sepaText(input.debtor.name, 70));

  const batch = doc.ele('PmtInf');
  batch.ele('PmtInfId').txt(messageId);
  batch.ele('PmtMtd').txt('TRF');
  batch.ele('BtchBookg').txt('true');
  batch.ele('NbOfTxs').txt(count);
  batch.ele('CtrlSum').txt(ctrlSum);
  batch.ele('PmtTpInf').ele('SvcLvl').ele('Cd').txt('SEPA');
  batch.ele('ReqdExctnDt').txt(input.executionDate);
  batch.ele('Dbtr').ele('Nm').txt(sepaText(input.debtor.name, 70));
  batch.ele('DbtrAcct').ele('Id').ele('IBAN').txt(normalizeIban(input.debtor.iban));
  agent(batch.ele('DbtrAgt'), input.debtor.bic);
  batch.ele('ChrgBr').txt('SLEV');

  for (const r of input.refunds) {
    const tx = batch.ele('CdtTrfTxInf');
    tx.ele('PmtId').ele('EndToEndId').txt(`KASSA-REFUND-${r.refundId}`);
    tx.ele('Amt').ele('InstdAmt', { Ccy: 'EUR' }).txt(minorUnitsToDecimalString(r.amount));
    if (r.creditorBic) agent(tx.ele('CdtrAgt'), r.creditorBic);
    tx.ele('Cdtr').ele('Nm').txt(sepaText(r.creditorName, 70));
    tx.ele('CdtrAcct').ele('Id').ele('IBAN').txt(normalizeIban(r.creditorIban));
    tx.ele('RmtInf').ele('Ustrd').txt(sepaText(r.remittance, 140));
  }

  return { messageId, xml: doc.end({ prettyPrint: true }), count: input.refunds.length, total };
}

type Builder = ReturnType<ReturnType<typeof create>['ele']>;

function agent(node: Builder, bic: string | undefined): void {
  const inst = node.ele('FinInstnId');
  // Inside SEPA the BIC is optional (IBAN-only); pain.001.001.03 then wants Othr/Id NOTPROVIDED.
  if (bic) inst.ele('BIC').txt(normalizeBic(bic));
  else inst.ele('Othr').ele('Id').txt('NOTPROVIDED');
}

/** "KR-" + 32 hex digits of a hash of the sorted refund ids: deterministic, at most 35 characters. */
export function messageIdFor(refundIds: readonly string[]): string {
  const digest = createHash('sha256').update([...refundIds].sort().join('\n')).digest('hex');
  return `KR-${digest.slice(0, 32)}`;
}

/**
 * SEPA's character set is the Latin basic subset (EPC217-08): letters, digits, space and / - ? : ( ) . , ' +.
 * Accents are dropped ("Müller" → "Muller"), anything else becomes a space, and the text is cut to `max`.
 */
export function sepaText(text: string, max: number): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}
