import { KassaError } from '../errors';
import { money, type Money } from './money';

/**
 * Splits `total` into parts proportional to `ratios`, so that the parts always add up to
 * exactly `total`: no unit is lost and none is invented.
 *
 * Largest-remainder method in integer arithmetic: every part first gets
 * floor(|amount| × ratio / Σratios); the units left over (fewer than the number of parts) go
 * one each to the parts with the largest remainders, ties going to the earlier part, so the
 * result is deterministic. A part whose ratio is 0 always gets 0. Negative totals are split
 * as their absolute value and negated, so `allocate(-100)` mirrors `allocate(100)`.
 *
 * Ratios must be non-negative safe integers with a positive sum (use `[1, 1, 1]` for a
 * three-way split, `[2500, 7500]` for 25 % / 75 %); anything else is refused with
 * MONEY_ALLOCATION_INVALID.
 *
 * @example allocate(money(100, 'EUR'), [1, 1, 1]) // → 34, 33, 33 cents
 */
export function allocate(total: Money, ratios: readonly number[]): Money[] {
  const checked = money(total.amount, total.currency);
  const weights = validateRatios(ratios);
  const ratioSum = weights.reduce((acc, r) => acc + r, 0n);

  const sign = checked.amount < 0 ? -1n : 1n;
  const units = BigInt(checked.amount) * sign;
  // BigInt keeps |amount| × ratio exact even when it exceeds 2^53.
  const shares = weights.map((r) => (units * r) / ratioSum);
  const remainders = weights.map((r) => (units * r) % ratioSum);
  let leftover = units - shares.reduce((acc, s) => acc + s, 0n);

  const order = weights
    .map((_, index) => index)
    .sort((a, b) => compareBigDesc(remainders[a]!, remainders[b]!) || a - b);
  for (const index of order) {
    if (leftover === 0n) break;
    shares[index]! += 1n;
    leftover -= 1n;
  }

  // Each share is at most |amount|, so converting back to number is exact.
  return shares.map((share) => money(Number(share * sign), checked.currency));
}

function validateRatios(ratios: readonly number[]): bigint[] {
  if (!Array.isArray(ratios) || ratios.length === 0) {
    throw new KassaError('MONEY_ALLOCATION_INVALID', { reason: 'at least one ratio is needed' });
  }
  const weights = ratios.map((r, index) => {
    if (typeof r !== 'number' || !Number.isSafeInteger(r)) {
      throw new KassaError('MONEY_ALLOCATION_INVALID', {
        reason: `ratio ${index} must be a whole number (scale fractional ratios up), got ${String(r)}`,
      });
    }
    if (r < 0) {
      throw new KassaError('MONEY_ALLOCATION_INVALID', { reason: `ratio ${index} must not be negative, got ${r}` });
    }
    return BigInt(r);
  });
  if (weights.every((w) => w === 0n)) {
    throw new KassaError('MONEY_ALLOCATION_INVALID', { reason: 'the ratios add up to zero' });
  }
  return weights;
}

function compareBigDesc(a: bigint, b: bigint): number {
  return a > b ? -1 : a < b ? 1 : 0;
}
