import { formatMoney as coreFormatMoney, minorUnitsToDecimalString } from '@kassa/core/host';

/** "€12.50" for templates: core's Intl formatting of integer minor units (no floats). */
export function formatMoney(amount: number, currency: string, locale = 'en'): string {
  return coreFormatMoney({ amount, currency }, locale);
}

/** Minor units as a plain decimal string for form inputs ("12.50"). */
export function toDecimalInput(amount: number, currency: string): string {
  return minorUnitsToDecimalString({ amount, currency });
}

export function formatDateTime(d: Date | string | null | undefined): string {
  if (!d) return '';
  const date = typeof d === 'string' ? new Date(d) : d;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
