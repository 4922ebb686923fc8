import { calculateFee } from '../../src/provider/payment-fee';
import { isKassaError, money } from '../../src/host';

const fee = (amount: number, currency: string, absolute: number, percent: string | number, reverse: boolean) =>
  calculateFee(money(amount, currency), { absolute, percent, reverse }).amount;

describe('calculateFee (pretix calculate_fee, integer minor units)', () => {
  it('forward: price × percent + absolute', () => {
    expect(fee(10_000, 'EUR', 25, '1.4', false)).toBe(165); // 1.40 + 0.25
    expect(fee(10_000, 'EUR', 30, 0, false)).toBe(30);
    expect(fee(10_000, 'EUR', 0, 0, true)).toBe(0);
  });

  it('reverse: (price + absolute) / (1 − percent) − price', () => {
    // 100.25 / 0.986 − 100 = 1.6734… → 1.67
    expect(fee(10_000, 'EUR', 25, '1.4', true)).toBe(167);
    // the organizer keeps at least price + absolute after the gateway takes its percentage of the whole
    const total = 10_000 + 167;
    expect(total - Math.round((total * 14) / 1000)).toBeGreaterThanOrEqual(10_025);
  });

  it('rounds half-up to the minor unit', () => {
    expect(fee(250, 'EUR', 0, 1, false)).toBe(3); // 2.5 → 3
    expect(fee(249, 'EUR', 0, 1, false)).toBe(2); // 2.49 → 2
    expect(fee(50, 'EUR', 0, 1, false)).toBe(1); // 0.5 → 1
  });

  it('JPY (no minor unit): fees are whole yen', () => {
    expect(fee(5000, 'JPY', 0, '3.6', false)).toBe(180);
    expect(fee(5000, 'JPY', 0, '3.6', true)).toBe(187); // 5000 / 0.964 − 5000 = 186.72
    expect(fee(5000, 'JPY', 40, '3.6', true)).toBe(228); // 5040 / 0.964 − 5000 = 228.21
  });

  it('KWD (three decimals): fees are whole fils', () => {
    expect(fee(12_345, 'KWD', 0, '2.5', false)).toBe(309); // 0.308625 → 0.309
    expect(fee(12_345, 'KWD', 0, '2.5', true)).toBe(317); // 12.345 / 0.975 − 12.345 = 0.31654 → 0.317
    expect(fee(12_345, 'KWD', 100, 0, true)).toBe(100);
  });

  it('keeps exact results for large amounts (no float drift)', () => {
    expect(fee(9_007_199_254_740, 'EUR', 0, '0.0001', false)).toBe(9_007_199);
  });

  it.each([
    [{ amount: 10.5, absolute: 0, percent: 1 }, 'MONEY_NOT_SAFE_INTEGER'],
    [{ amount: -1, absolute: 0, percent: 1 }, 'MONEY_NEGATIVE'],
    [{ amount: 100, absolute: -5, percent: 1 }, 'MONEY_NEGATIVE'],
    [{ amount: 100, absolute: 0, percent: '-1' }, 'VALIDATION_FAILED'],
    [{ amount: 100, absolute: 0, percent: '1.23456' }, 'VALIDATION_FAILED'],
    [{ amount: 100, absolute: 0, percent: '1e2' }, 'VALIDATION_FAILED'],
  ])('refuses bad input %j with %s', (input, code) => {
    let caught: unknown;
    try {
      calculateFee({ amount: input.amount, currency: 'EUR' }, { absolute: input.absolute, percent: input.percent, reverse: false });
    } catch (err) {
      caught = err;
    }
    expect(isKassaError(caught, code as never)).toBe(true);
  });

  it('gives the same fee for a percentage met again, and refuses a bad one every time it is met', () => {
    expect(fee(10_000, 'EUR', 25, ' 1.4 ', false)).toBe(165);
    expect(fee(20_000, 'EUR', 25, ' 1.4 ', false)).toBe(305);
    expect(fee(10_000, 'EUR', 25, 1.4, false)).toBe(165);
    for (let i = 0; i < 2; i++) expect(() => fee(100, 'EUR', 0, '1.23456', false)).toThrow(/at most 4 places/);
  });

  it('refuses 100 % in reverse (the fee would be infinite)', () => {
    expect(() => fee(100, 'EUR', 0, 100, true)).toThrow(/below 100/);
  });
});
