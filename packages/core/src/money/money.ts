import { KassaError } from '../errors';
import { currencyExponent, type CurrencyCode } from './currencies';

/** An exact amount: integer minor units (cents, yen, fils) plus an ISO 4217 code. Never a float. */
export interface Money {
  readonly amount: number;
  readonly currency: CurrencyCode;
}

/** Refuses anything that is not a safe integer, so no float can enter a money path. */
export function assertMinorUnits(value: unknown, field = 'amount'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new KassaError('MONEY_NOT_SAFE_INTEGER', { field, value: String(value) });
  }
}

export function assertNonNegative(value: unknown, field = 'amount'): asserts value is number {
  assertMinorUnits(value, field);
  if (value < 0) throw new KassaError('MONEY_NEGATIVE', { field, value });
}

export function assertCurrency(code: unknown): asserts code is CurrencyCode {
  if (typeof code !== 'string' || currencyExponent(code) === undefined) {
    throw new KassaError('MONEY_CURRENCY_UNKNOWN', { currency: String(code) });
  }
}

export function money(amount: number, currency: CurrencyCode): Money {
  assertMinorUnits(amount);
  assertCurrency(currency);
  return Object.freeze({ amount, currency });
}

export function assertSameCurrency(a: Money | CurrencyCode, b: Money | CurrencyCode): void {
  const left = typeof a === 'string' ? a : a.currency;
  const right = typeof b === 'string' ? b : b.currency;
  if (left !== right) throw new KassaError('MONEY_CURRENCY_MISMATCH', { left, right });
}

function checked(result: number, field: string): number {
  assertMinorUnits(result, field);
  return result;
}

export function add(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(checked(a.amount + b.amount, 'sum'), a.currency);
}

export function subtract(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(checked(a.amount - b.amount, 'difference'), a.currency);
}

export function sum(items: readonly Money[], currency: CurrencyCode): Money {
  let total = 0;
  for (const item of items) {
    assertSameCurrency(item, currency);
    total = checked(total + item.amount, 'sum');
  }
  return money(total, currency);
}

export function isZero(m: Money): boolean {
  return m.amount === 0;
}

export function compare(a: Money, b: Money): -1 | 0 | 1 {
  assertSameCurrency(a, b);
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0;
}

/**
 * The largest single price, fee or manual amount Kassa accepts where it is entered: 13 digits of
 * minor units (99 999 999 999.99 in EUR), as pretix's decimal(13, 2). Sums of up to 900 such
 * amounts stay below Number.MAX_SAFE_INTEGER, the limit of what Kassa stores and computes exactly,
 * so an order total built from entered amounts is refused by placeOrder long before it could round.
 */
export const MAX_ENTERED_AMOUNT = 9_999_999_999_999;

/** Refuses an entered amount above {@link MAX_ENTERED_AMOUNT} (MONEY_AMOUNT_TOO_LARGE naming the field). */
export function assertEnteredAmount(value: number, field: string): void {
  assertNonNegative(value, field);
  if (value > MAX_ENTERED_AMOUNT) throw new KassaError('MONEY_AMOUNT_TOO_LARGE', { field, max: MAX_ENTERED_AMOUNT, value });
}

/**
 * a + b for amounts that must stay exact: null when the sum leaves the safe-integer range (the
 * caller refuses with its own error, naming what overflowed).
 */
export function exactSum(a: number, b: number): number | null {
  const s = a + b;
  return Number.isSafeInteger(s) ? s : null;
}
