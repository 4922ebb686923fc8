import { KassaError } from '../errors';
import { assertCurrency, assertNonNegative, money, type Money } from '../money/money';

/**
 * A payment-method fee, after pretix's `calculate_fee` (reference/pretix.md §2.2): an absolute part
 * in minor units plus a percentage, computed either forward (fee on top of the price) or in reverse
 * (the fee is chosen so that, once the gateway takes its percentage of the whole, the organizer
 * keeps price + absolute).
 */
export interface FeeRule {
  /** Minor units of the price's currency. */
  readonly absolute: number;
  /** A decimal percentage, e.g. "1.4" or 1.4, with at most 4 decimal places. */
  readonly percent: string | number;
  /** pretix's `_fee_reverse_calc`, on by default there too. */
  readonly reverse: boolean;
}

/** Percent is scaled to millionths of the whole (1 % = 10 000) so every step stays in integers. */
const PERCENT_SCALE = 10_000n;
const WHOLE = 100n * PERCENT_SCALE;

/**
 * The fee for paying `price` with a method that charges `rule`, rounded half-up to the
 * currency's minor unit. Integer arithmetic only (BigInt inside); no float touches the amount.
 */
export function calculateFee(price: Money, rule: FeeRule): Money {
  assertCurrency(price.currency);
  assertNonNegative(price.amount, 'price');
  assertNonNegative(rule.absolute, 'feeAbsolute');
  const pct = parsePercent(rule.percent);
  const p = BigInt(price.amount);
  const abs = BigInt(rule.absolute);
  let fee: bigint;
  if (pct === 0n) {
    fee = abs;
  } else if (!rule.reverse) {
    // price * pct/100 + abs
    fee = abs + divHalfUp(p * pct, WHOLE);
  } else {
    if (pct >= WHOLE) throw new KassaError('VALIDATION_FAILED', { detail: 'feePercent must be below 100 for reverse calculation' });
    // (price + abs) / (1 - pct/100) - price, brought over one denominator: (abs*W + price*pct) / (W - pct)
    fee = divHalfUp(abs * WHOLE + p * pct, WHOLE - pct);
  }
  const amount = Number(fee);
  if (!Number.isSafeInteger(amount)) throw new KassaError('MONEY_NOT_SAFE_INTEGER', { field: 'fee', value: fee.toString() });
  return money(amount, price.currency);
}

/**
 * "1.4" → 14 000 (millionths). Refuses negatives, exponents and more than 4 decimals. A method's
 * percentage is a setting, and the fee is worked out for every method offered on every checkout
 * step: each value is parsed once (a refused one is not kept).
 */
function parsePercent(value: string | number): bigint {
  let parsed = parsedPercents.get(value);
  if (parsed === undefined) {
    parsed = parsePercentText(typeof value === 'number' ? String(value) : value.trim());
    if (parsedPercents.size >= 256) parsedPercents.clear();
    parsedPercents.set(value, parsed);
  }
  return parsed;
}

const parsedPercents = new Map<string | number, bigint>();

function parsePercentText(text: string): bigint {
  const m = /^(\d{1,3})(?:\.(\d{1,4}))?$/.exec(text);
  if (!m) throw new KassaError('VALIDATION_FAILED', { detail: `feePercent must be a decimal between 0 and 999 with at most 4 places, got ${text}` });
  return BigInt(m[1] as string) * PERCENT_SCALE + BigInt((m[2] ?? '').padEnd(4, '0'));
}

/** n / d rounded half-up, for n >= 0 and d > 0. */
function divHalfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}
