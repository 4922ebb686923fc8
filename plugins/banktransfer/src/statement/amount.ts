import { currencyExponent } from '@kassa/core';

/**
 * Reads a decimal amount as a bank writes it ("1.234,56", "-12.50", "+7,5", "1 234.56") into
 * integer minor units of `currency`, through the digits and never a float. The decimal separator
 * is given (a bank's export always uses the same one); the other separator, spaces and apostrophes
 * may group thousands. Returns an error text instead of throwing, so the caller can name the line.
 */
export function decimalToMinorUnits(input: string, currency: string, decimalSeparator: '.' | ','): { ok: true; amount: number } | { ok: false; reason: string } {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) return { ok: false, reason: `unknown currency "${currency}"` };
  let text = input.trim().replace(/[\s\u00a0\u202f']/g, '');
  let negative = false;
  if (/^[-\u2212]/.test(text)) { negative = true; text = text.slice(1); } else if (text.startsWith('+')) text = text.slice(1);
  if (text.endsWith('-')) {
    if (negative) return { ok: false, reason: `"${input}" has two minus signs` };
    negative = true;
    text = text.slice(0, -1);
  } // "12,50-": trailing minus, as some German banks write debits
  const group = decimalSeparator === ',' ? '.' : ',';
  const [whole = '', fraction = '', ...rest] = text.split(decimalSeparator);
  if (rest.length > 0) return { ok: false, reason: `"${input}" has more than one decimal separator "${decimalSeparator}"` };
  const digits = whole.split(group).join('');
  if (!/^\d*$/.test(digits) || !/^\d*$/.test(fraction) || (digits === '' && fraction === '')) return { ok: false, reason: `"${input}" is not an amount` };
  if (whole.includes(group)) {
    const [head = '', ...groups] = whole.split(group);
    if (!/^\d{1,3}$/.test(head) || groups.some((g) => !/^\d{3}$/.test(g))) return { ok: false, reason: `"${input}" has malformed digit groups` };
  }
  if (fraction.length > exponent) {
    if (/[1-9]/.test(fraction.slice(exponent))) return { ok: false, reason: `"${input}" has more decimals than ${currency} has (${exponent})` };
  }
  const minor = BigInt(digits || '0') * 10n ** BigInt(exponent) + BigInt((fraction.slice(0, exponent) || '0').padEnd(exponent, '0'));
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: `"${input}" is too large` };
  const amount = Number(minor);
  return { ok: true, amount: negative ? -amount : amount };
}
