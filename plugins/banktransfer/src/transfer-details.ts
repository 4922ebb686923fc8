import { formatMoney, type Money } from '@kassa/core';
import { epcQrPayload, epcQrProblem, epcQrSvg } from './epc-qr';
import { formatIban } from './iban';
import { orderReference } from './reference';
import type { BankTransferSettings, LocalizedText } from './settings-schema';

/** What the order page and the emails need to know about one order. */
export interface TransferDetailsInput {
  readonly settings: BankTransferSettings;
  readonly orderCode: string;
  readonly eventSlug: string;
  /** What is still owed (the order's pending sum), not the total: after a partial transfer the rest. */
  readonly amountDue: Money;
  /** The buyer's language, e.g. "de-AT". */
  readonly locale: string;
}

/** The view model the plugin's order-page partial and email block render. */
export interface TransferDetails {
  readonly accountHolder: string;
  /** In groups of four, for reading ("DE89 3704 …"). */
  readonly iban: string;
  readonly bic: string | null;
  readonly bankName: string | null;
  /** Write exactly this on the transfer ("DEMO-ABC12"). */
  readonly reference: string;
  readonly amount: Money;
  /** The amount in the buyer's locale ("€ 23,50"). */
  readonly amountFormatted: string;
  readonly freeText: string | null;
  /** The EPC QR code when the settings ask for it and the transfer allows one. */
  readonly qr: { readonly payload: string; readonly svg: string } | null;
  /** Why there is no QR code although the settings ask for one (shown to the organizer, not the buyer). */
  readonly qrUnavailable: string | null;
}

export async function buildTransferDetails(input: TransferDetailsInput): Promise<TransferDetails> {
  const { settings, amountDue } = input;
  const reference = orderReference(input.eventSlug, input.orderCode);
  let qr: TransferDetails['qr'] = null;
  let qrUnavailable: string | null = null;
  if (settings.showQrCode) {
    qrUnavailable = epcQrProblem({ iban: settings.iban, amount: amountDue });
    if (!qrUnavailable) {
      const payload = epcQrPayload({ beneficiaryName: settings.accountHolder, iban: settings.iban, bic: settings.bic, amount: amountDue, remittance: reference });
      qr = { payload, svg: await epcQrSvg(payload) };
    }
  }
  return {
    accountHolder: settings.accountHolder,
    iban: formatIban(settings.iban),
    bic: settings.bic || null,
    bankName: settings.bankName || null,
    reference,
    amount: amountDue,
    amountFormatted: formatMoney(amountDue, input.locale),
    freeText: localized(settings.freeText, input.locale),
    qr,
    qrUnavailable,
  };
}

/** The text in the buyer's language: exact tag, then its base language, then English, then any. */
export function localized(text: LocalizedText | undefined, locale: string): string | null {
  if (!text) return null;
  const base = locale.split('-')[0]!;
  const hit = text[locale] ?? text[base] ?? Object.entries(text).find(([tag]) => tag.split('-')[0] === base)?.[1] ?? text.en ?? Object.values(text)[0];
  return hit?.trim() ? hit : null;
}
