import { KassaError } from '../errors';
import { currencyExponent } from './currencies';
import { assertCurrency, assertMinorUnits, type Money } from './money';

/**
 * The exact decimal value of an amount of minor units, as a plain string with a `.` separator
 * and as many fraction digits as the currency's ISO 4217 exponent.
 * Built from integer division and modulo on the digits, never through a float, so every safe
 * integer converts exactly.
 *
 * @example minorUnitsToDecimalString(money(-5, 'EUR')) // → "-0.05"
 * @example minorUnitsToDecimalString(money(1234, 'KWD')) // → "1.234"
 */
export function minorUnitsToDecimalString(value: Money): string {
  assertMinorUnits(value.amount);
  assertCurrency(value.currency);
  const exponent = currencyExponent(value.currency)!;
  const sign = value.amount < 0 ? '-' : '';
  const units = BigInt(Math.abs(value.amount));
  if (exponent === 0) return `${sign}${units}`;
  const scale = 10n ** BigInt(exponent);
  const whole = units / scale;
  const fraction = (units % scale).toString().padStart(exponent, '0');
  return `${sign}${whole}.${fraction}`;
}

/** Options for {@link formatMoney}, passed through to Intl.NumberFormat. */
export interface FormatMoneyOptions {
  /** How to show the currency: `symbol` (default, "€"), `narrowSymbol`, `code` ("EUR") or `name`. */
  readonly currencyDisplay?: 'symbol' | 'narrowSymbol' | 'code' | 'name';
}

/**
 * Formats an amount for humans with Intl.NumberFormat in `locale`, always showing exactly the
 * currency's ISO 4217 number of decimals. CLDR's display defaults differ from ISO for some
 * currencies (it shows IQD with 0 decimals although ISO says 3), and Kassa's amounts follow ISO,
 * so the digits are pinned. Intl receives the exact decimal string, not a float, so even the
 * largest safe amount formats without rounding.
 *
 * @example formatMoney(money(1234, 'JPY'), 'en-US') // → "¥1,234"
 * @example formatMoney(money(1234, 'KWD'), 'en-US') // → "KWD 1.234" (with a no-break space)
 * @example formatMoney(money(123456, 'EUR'), 'de-DE') // → "1.234,56 €"
 */
export function formatMoney(value: Money, locale: string, options: FormatMoneyOptions = {}): string {
  const currencyDisplay = options.currencyDisplay ?? 'symbol';
  // A shop shows the same few prices and totals over and over: each formatted once.
  const key = `${locale}\u0000${value.currency}\u0000${currencyDisplay}\u0000${value.amount}`;
  const known = formattedAmounts.get(key);
  if (known !== undefined) return known;
  const decimal = minorUnitsToDecimalString(value);
  const exponent = currencyExponent(value.currency)!;
  const text = numberFormat(locale, {
    style: 'currency',
    currency: value.currency,
    currencyDisplay,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  }).format(decimal as Intl.StringNumericLiteral);
  if (formattedAmounts.size >= MAX_CACHED_AMOUNTS) formattedAmounts.clear();
  formattedAmounts.set(key, text);
  return text;
}

const formattedAmounts = new Map<string, string>();
const MAX_CACHED_AMOUNTS = 10_000;

// Building an Intl.NumberFormat costs far more than using one; pages format many amounts in the
// same few locales and currencies. Bounded so that arbitrary locale input cannot grow it forever.
const formatters = new Map<string, Intl.NumberFormat>();
const MAX_CACHED_FORMATTERS = 4000;

/** A cached Intl.NumberFormat, with a catalogued error for a malformed locale tag instead of a RangeError. */
export function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}\u0000${JSON.stringify(options)}`;
  const cached = formatters.get(key);
  if (cached) return cached;
  let formatter: Intl.NumberFormat;
  try {
    formatter = new Intl.NumberFormat(locale, options);
  } catch (cause) {
    throw new KassaError('VALIDATION_FAILED', { detail: `locale "${locale}" is not a valid BCP 47 language tag` }, { cause });
  }
  if (formatters.size >= MAX_CACHED_FORMATTERS) formatters.clear();
  formatters.set(key, formatter);
  return formatter;
}
