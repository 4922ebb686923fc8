import { currencyExponent, KassaError, type Money } from '@kassa/core';

/**
 * Formats integer minor units for display ("EUR 12.50", "JPY 500") without floating point:
 * the decimal point is placed by string arithmetic on the exponent from core's currency table.
 */
export function formatMoney(amount: number, currency: string): string {
  const exp = currencyExponent(currency) ?? 2;
  const sign = amount < 0 ? '-' : '';
  const digits = String(Math.abs(amount)).padStart(exp + 1, '0');
  const whole = exp === 0 ? digits : digits.slice(0, digits.length - exp);
  const frac = exp === 0 ? '' : `.${digits.slice(digits.length - exp)}`;
  return `${currency} ${sign}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac}`;
}

/** Minor units as a plain decimal string for form inputs ("12.50"). */
export function toDecimalInput(amount: number, currency: string): string {
  return formatMoney(amount, currency).slice(currency.length + 1).replace(/,/g, '');
}

/**
 * Reads a decimal amount typed by an organizer ("12.5", "12.50", "1200") into minor units of the
 * currency, refusing more decimals than the currency has. Pure string arithmetic, no floats.
 */
export function parseDecimalInput(input: string, currency: string, field = 'amount'): Money {
  const exp = currencyExponent(currency);
  if (exp === undefined) throw new KassaError('MONEY_CURRENCY_UNKNOWN', { currency });
  const trimmed = input.trim();
  const m = /^(\d{1,15})(?:[.,](\d+))?$/.exec(trimmed);
  if (!m) throw new KassaError('MONEY_PARSE_FAILED', { input: trimmed, currency, reason: `${field} must be a positive decimal number` });
  const frac = m[2] ?? '';
  if (frac.length > exp) {
    throw new KassaError('MONEY_PARSE_FAILED', { input: trimmed, currency, reason: `${currency} has ${exp} decimal places` });
  }
  const amount = Number(`${m[1]}${frac.padEnd(exp, '0')}`);
  if (!Number.isSafeInteger(amount)) throw new KassaError('MONEY_NOT_SAFE_INTEGER', { field, value: trimmed });
  return { amount, currency };
}

export function formatDateTime(d: Date | string | null | undefined): string {
  if (!d) return '';
  const date = typeof d === 'string' ? new Date(d) : d;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
