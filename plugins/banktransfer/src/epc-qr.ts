import { minorUnitsToDecimalString, type Money } from '@kassa/core';
import QRCode from 'qrcode';
import { BankTransferError } from './errors';
import { isSepaIban, normalizeBic, normalizeIban } from './iban';

/** What goes into an EPC QR code ("GiroCode"): a SEPA credit transfer the buyer's banking app pre-fills. */
export interface EpcTransfer {
  readonly beneficiaryName: string;
  readonly iban: string;
  readonly bic?: string;
  /** EUR only: the EPC code is for SEPA credit transfers in euro. */
  readonly amount: Money;
  /** Unstructured remittance information: the order reference. */
  readonly remittance: string;
  /** Shown to the payer by some apps ("beneficiary to originator information"). */
  readonly note?: string;
}

// EPC069-12 (Quick Response Code: guidelines to enable data capture for the initiation of a SCT), v3.
const MAX_AMOUNT_MINOR = 99_999_999_999; // 999 999 999.99 EUR
const MAX_PAYLOAD_BYTES = 331;

/** Why no EPC code can be made for this transfer, or null when one can. */
export function epcQrProblem(t: Pick<EpcTransfer, 'iban' | 'amount'>): string | null {
  if (t.amount.currency !== 'EUR') return `EPC QR codes carry euro amounts only, this order is in ${t.amount.currency}`;
  if (t.amount.amount < 1 || t.amount.amount > MAX_AMOUNT_MINOR) return 'the amount must be between 0.01 and 999999999.99 EUR';
  if (!isSepaIban(t.iban)) return 'the account is not in a SEPA country';
  return null;
}

/**
 * The EPC069-12 payload, one element per line (LF), version 002 (BIC optional inside the EEA),
 * character set 1 (UTF-8), identification SCT. The remittance goes into the unstructured field
 * (line 11), so line 10 (structured RF creditor reference) stays empty; trailing empty elements
 * are left out, as the guideline asks.
 */
export function epcQrPayload(t: EpcTransfer): string {
  const problem = epcQrProblem(t);
  if (problem) throw new BankTransferError('BANKTRANSFER_QR_UNAVAILABLE', { reason: problem });
  const lines = [
    'BCD',
    '002',
    '1',
    'SCT',
    t.bic ? normalizeBic(t.bic) : '',
    clip(oneLine(t.beneficiaryName), 70),
    normalizeIban(t.iban),
    `EUR${minorUnitsToDecimalString(t.amount)}`,
    '', // purpose code
    '', // structured creditor reference (ISO 11649)
    clip(oneLine(t.remittance), 140),
    clip(oneLine(t.note ?? ''), 70),
  ];
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const payload = lines.join('\n');
  if (Buffer.byteLength(payload, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw new BankTransferError('BANKTRANSFER_QR_UNAVAILABLE', { reason: `the payload is longer than ${MAX_PAYLOAD_BYTES} bytes` });
  }
  return payload;
}

/** The EPC code as an SVG image; error correction level M, as EPC069-12 requires. */
export async function epcQrSvg(payload: string): Promise<string> {
  return QRCode.toString([{ data: Buffer.from(payload, 'utf8'), mode: 'byte' }], { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/** Cuts to at most `max` characters, never inside a surrogate pair. */
function clip(text: string, max: number): string {
  return Array.from(text).slice(0, max).join('');
}

/**
 * The same QR code as an SVG string, built synchronously (render hooks are synchronous): the
 * library encodes the matrix, this draws one path of its dark modules.
 */
export function epcQrSvgSync(payload: string, margin = 4): string {
  const { modules } = QRCode.create([{ data: Buffer.from(payload, 'utf8'), mode: 'byte' }], { errorCorrectionLevel: 'M' });
  const size = modules.size;
  let path = '';
  for (let row = 0; row < size; row++) {
    // One rectangle per run of dark modules in a row.
    for (let col = 0; col < size; col++) {
      if (!modules.data[row * size + col]) continue;
      let run = 1;
      while (col + run < size && modules.data[row * size + col + run]) run++;
      path += `M${col + margin} ${row + margin}h${run}v1h-${run}z`;
      col += run - 1;
    }
  }
  const full = size + margin * 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" shape-rendering="crispEdges" role="img" aria-label="EPC QR code for the transfer"><rect width="${full}" height="${full}" fill="#fff"/><path fill="#000" d="${path}"/></svg>`;
}
