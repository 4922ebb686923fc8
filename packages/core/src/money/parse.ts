import { KassaError } from '../errors';
import { currencyExponent, type CurrencyCode } from './currencies';
import { numberFormat } from './format';
import { assertCurrency, money, type Money } from './money';

/** Options for {@link parseMoney}. */
export interface ParseMoneyOptions {
  /**
   * The locale the user typed in. It decides the one ambiguous shape, a single `.` or `,`
   * followed by exactly three digits ("1,234"): the locale's decimal separator makes it a
   * decimal, its grouping separator makes it a thousands group. Without a locale (or when the
   * locale uses neither character) the currency decides; see {@link parseMoney}.
   */
  readonly locale?: string;
  /** Accept a leading minus sign. Off by default: most user-entered amounts are prices and refunds. */
  readonly allowNegative?: boolean;
  /** Name of the input field, carried in the error's params so a form can point at it. */
  readonly field?: string;
}

// Characters that can only ever group digits: spaces (incl. the no-break spaces fr and others
// use) and apostrophes (de-CH). Non-global on purpose: a /g regex keeps state across test() calls.
const SPACE_GROUP = /[ \u00a0\u202f]/;
const APOSTROPHE_GROUP = /['\u2019]/;
const MINUS = /^[-\u2212]/;
// Far longer than any real amount; bounds the work done on hostile input.
const MAX_INPUT_LENGTH = 64;

/**
 * Reads an amount typed by a person into integer minor units, without ever going through a
 * float. Accepted shapes: "13", "13,37", "13.37", "1.234,56", "1,234.56", "1 234,56",
 * "1'234.56", ".5", with an optional leading "+" or "-" and an optional currency code or the
 * locale's currency symbol before or after the number ("EUR 13,37", "13,37 €").
 *
 * How the decimal separator is found:
 * - both `.` and `,` present: the last of them is the decimal separator, the other groups;
 * - a space or apostrophe groups digits, so a single `.` or `,` beside it is the decimal separator;
 * - the same character twice or more ("1.234.567"): it groups digits;
 * - a single `.` or `,` not followed by exactly three digits ("13,5", "13.37"), or with only
 *   zeros or nothing before it ("0.234", ".5"): decimal separator;
 * - a single `.` or `,` followed by exactly three digits ("1,234") is ambiguous: the `locale`
 *   decides when given and it uses that character; otherwise it is a decimal separator only for
 *   currencies with three or more decimals (1,234 KWD = 1.234 KWD, 1,234 EUR = 1234.00 EUR).
 *
 * Grouped digits must look like groups: 1–3 leading digits, then groups of three (two-digit
 * groups are accepted before the last group, for Indian lakh/crore grouping). Refused with
 * MONEY_PARSE_FAILED and a reason: empty input, stray characters, more decimals than the
 * currency has (13.5 JPY, 13.3755 EUR), malformed groups, a negative amount unless
 * `allowNegative`, and amounts beyond the safe-integer range.
 *
 * @example parseMoney('1.234,56', 'EUR') // → { amount: 123456, currency: 'EUR' }
 * @example parseMoney('1,234', 'EUR', { locale: 'de-DE' }) // → MONEY_PARSE_FAILED (3 decimals)
 */
export function parseMoney(input: string, currency: CurrencyCode, options: ParseMoneyOptions = {}): Money {
  assertCurrency(currency);
  const exponent = currencyExponent(currency)!;
  const fail = (reason: string): never => {
    throw new KassaError('MONEY_PARSE_FAILED', { input: String(input), currency, reason, field: options.field });
  };
  if (typeof input !== 'string') return fail('expected text');
  if (input.length > MAX_INPUT_LENGTH) return fail(`longer than ${MAX_INPUT_LENGTH} characters`);
  const separators = options.locale === undefined ? undefined : localeSeparators(options.locale);

  // The sign may stand before or after the currency mark: "-€13" and "€-13".
  let sign = takeSign(input.trim());
  let text = stripCurrency(sign.rest, currency, options.locale);
  if (sign.kind === undefined) {
    sign = takeSign(text);
    text = sign.rest;
  }
  const negative = sign.kind === '-';
  if (text === '') return fail('no digits');
  const stray = /[^0-9.,' \u00a0\u202f\u2019]/.exec(text);
  if (stray) return fail(`unexpected character "${stray[0]}"`);

  const { integer, fraction } = splitNumber(text, exponent, separators, fail);
  if (fraction.length > exponent) {
    return fail(`${currency} has ${exponent} decimal place${exponent === 1 ? '' : 's'}, the input has ${fraction.length}`);
  }

  const digits = `${integer}${fraction.padEnd(exponent, '0')}`.replace(/^0+(?=\d)/, '');
  const units = BigInt(digits);
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) return fail('the amount is too large');
  if (negative && units !== 0n && !options.allowNegative) return fail('negative amounts are not allowed here');
  // `-Number(0n)` would be -0; a zero amount has no sign.
  return money(negative && units !== 0n ? -Number(units) : Number(units), currency);
}

function takeSign(text: string): { kind: '-' | '+' | undefined; rest: string } {
  if (MINUS.test(text)) return { kind: '-', rest: text.slice(1).trimStart() };
  if (text.startsWith('+')) return { kind: '+', rest: text.slice(1).trimStart() };
  return { kind: undefined, rest: text };
}

interface Separators {
  readonly decimal: string;
  readonly group: string;
}

function localeSeparators(locale: string): Separators {
  const parts = numberFormat(locale, { useGrouping: true }).formatToParts(1234567.5);
  return {
    decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.',
    group: parts.find((p) => p.type === 'group')?.value ?? ',',
  };
}

/** Removes the ISO code (any case) or the locale's symbol for `currency` from either end. */
function stripCurrency(text: string, currency: string, locale: string | undefined): string {
  const marks = [currency];
  for (const display of ['symbol', 'narrowSymbol'] as const) {
    const symbol = numberFormat(locale ?? 'en', { style: 'currency', currency, currencyDisplay: display })
      .formatToParts(0)
      .find((p) => p.type === 'currency')?.value;
    if (symbol) marks.push(symbol);
  }
  const upper = text.toUpperCase();
  for (const mark of marks.sort((a, b) => b.length - a.length)) {
    const m = mark.toUpperCase();
    if (upper.startsWith(m)) return text.slice(mark.length).trim();
    if (upper.endsWith(m)) return text.slice(0, text.length - mark.length).trim();
  }
  return text;
}

function splitNumber(
  text: string,
  exponent: number,
  locale: Separators | undefined,
  fail: (reason: string) => never,
): { integer: string; fraction: string } {
  const hasSpace = SPACE_GROUP.test(text);
  const hasApostrophe = APOSTROPHE_GROUP.test(text);
  if (hasSpace && hasApostrophe) fail('mixes spaces and apostrophes as digit groups');
  const otherGroup = hasSpace || hasApostrophe;
  const body = text.replace(new RegExp(SPACE_GROUP, 'g'), ' ').replace(new RegExp(APOSTROPHE_GROUP, 'g'), ' ');

  const dots = count(body, '.');
  const commas = count(body, ',');
  let decimal: '.' | ',' | undefined;
  if (dots > 0 && commas > 0) {
    decimal = body.lastIndexOf('.') > body.lastIndexOf(',') ? '.' : ',';
  } else if (dots + commas === 1) {
    const sep = dots === 1 ? '.' : ',';
    const at = body.indexOf(sep);
    // A thousands group never follows a bare "0" or nothing: "0.234" and ".234" are decimals.
    if (otherGroup || body.length - at - 1 !== 3 || /^0*$/.test(body.slice(0, at))) decimal = sep;
    else decimal = ambiguousIsDecimal(sep, exponent, locale) ? sep : undefined;
  } // else: no separator, or one character repeated, which can only group digits

  let integerPart = body;
  let fraction = '';
  if (decimal !== undefined) {
    if (count(body, decimal) > 1) fail(`the decimal separator "${decimal}" appears more than once`);
    const at = body.indexOf(decimal);
    integerPart = body.slice(0, at);
    fraction = body.slice(at + 1);
    if (fraction === '') fail(`nothing follows the decimal separator "${decimal}"`);
    if (!/^\d+$/.test(fraction)) fail('separators are not allowed after the decimal separator');
  }
  const group = decimal === undefined ? /[ .,]/ : decimal === '.' ? /[ ,]/ : /[ .]/;
  if (otherGroup && /[.,]/.test(integerPart)) fail('mixes different digit-group separators');
  return { integer: checkGroups(integerPart, group, fail), fraction };
}

function ambiguousIsDecimal(sep: '.' | ',', exponent: number, locale: Separators | undefined): boolean {
  if (locale?.decimal === sep) return true;
  if (locale?.group === sep) return false;
  return exponent >= 3;
}

/** Validates digit groups ("1,234,567", Indian "12,34,567") and returns the bare digits. */
function checkGroups(integerPart: string, group: RegExp, fail: (reason: string) => never): string {
  if (integerPart === '') return '0';
  const groups = integerPart.split(group);
  if (groups.length === 1) return integerPart;
  const [first, ...rest] = groups;
  const last = rest[rest.length - 1]!;
  const wellFormed =
    /^\d{1,3}$/.test(first!) && /^\d{3}$/.test(last) && rest.slice(0, -1).every((g) => /^\d{2,3}$/.test(g));
  if (!wellFormed) fail(`"${integerPart}" is not grouped in thousands`);
  return groups.join('');
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}
