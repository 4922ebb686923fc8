/** What the email's transfer block shows (the order page's details without the QR code). */
export interface TransferMailDetails {
  readonly reference: string;
  readonly amountFormatted: string;
  readonly accountHolder: string;
  /** In groups of four. */
  readonly iban: string;
  readonly bic: string | null;
  readonly bankName: string | null;
  readonly freeText: string | null;
}

type MailLanguage = 'en' | 'de';

/** The labels; other languages get English (the free text carries the organizer's words). */
const mailLabels = {
  en: { intro: 'Please transfer the exact amount with this reference:', reference: 'Reference', amount: 'Amount', accountHolder: 'Account holder', bankName: 'Bank' },
  de: { intro: 'Bitte überweisen Sie genau diesen Betrag mit diesem Verwendungszweck:', reference: 'Verwendungszweck', amount: 'Betrag', accountHolder: 'Kontoinhaber', bankName: 'Bank' },
} as const;

/** German for "de", "de-AT" …; English otherwise. */
export function mailLanguage(locale: string): MailLanguage {
  return locale.toLowerCase().split(/[-_]/)[0] === 'de' ? 'de' : 'en';
}

/**
 * The transfer details as plain text (core escapes it for the HTML part): the order-placed
 * email's block and the reminders' body.
 */
export function transferMailText(d: TransferMailDetails, locale: string): string {
  const l = mailLabels[mailLanguage(locale)];
  const lines = [
    l.intro,
    '',
    `${l.reference}: ${d.reference}`,
    `${l.amount}: ${d.amountFormatted}`,
    `${l.accountHolder}: ${d.accountHolder}`,
    `IBAN: ${d.iban}`,
    ...(d.bic ? [`BIC: ${d.bic}`] : []),
    ...(d.bankName ? [`${l.bankName}: ${d.bankName}`] : []),
  ];
  if (d.freeText) lines.push('', d.freeText);
  return lines.join('\n');
}
