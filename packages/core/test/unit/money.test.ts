import {
  KassaError, add, allocate, formatMoney, isKassaError, listCurrencies, minorUnitsToDecimalString, money, parseMoney, sum,
  type ErrorCode, type Money,
} from '../../src/host';

function refusal(fn: () => unknown): KassaError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KassaError) return err;
    throw err;
  }
  throw new Error('expected a KassaError, nothing was thrown');
}

function expectRefused(fn: () => unknown, code: ErrorCode, reason?: RegExp): void {
  const err = refusal(fn);
  expect(err.code).toBe(code);
  if (reason) expect(String(err.params.reason)).toMatch(reason);
}

const amounts = (parts: readonly Money[]) => parts.map((p) => p.amount);

describe('Money value', () => {
  it('refuses floats, unsafe integers and unknown currencies', () => {
    expectRefused(() => money(13.37, 'EUR'), 'MONEY_NOT_SAFE_INTEGER');
    expectRefused(() => money(Number.MAX_SAFE_INTEGER + 1, 'EUR'), 'MONEY_NOT_SAFE_INTEGER');
    expectRefused(() => money(1, 'XYZ'), 'MONEY_CURRENCY_UNKNOWN');
    expectRefused(() => add(money(1, 'EUR'), money(1, 'USD')), 'MONEY_CURRENCY_MISMATCH');
    expectRefused(() => add(money(Number.MAX_SAFE_INTEGER, 'EUR'), money(1, 'EUR')), 'MONEY_NOT_SAFE_INTEGER');
  });
});

describe('allocate', () => {
  it('splits 100 cents three ways without losing a cent, remainder to the first part', () => {
    expect(amounts(allocate(money(100, 'EUR'), [1, 1, 1]))).toEqual([34, 33, 33]);
  });

  it('gives leftover units to the largest remainders, not simply to the first parts', () => {
    // 10 × 1/6 = 1.67, 10 × 2/6 = 3.33, 10 × 3/6 = 5 → floors 1, 3, 5; the one left goes to part 0 (.67)
    expect(amounts(allocate(money(10, 'EUR'), [1, 2, 3]))).toEqual([2, 3, 5]);
    // 7 × 30/100 = 2.1, 7 × 70/100 = 4.9 → the leftover unit goes to the 70 % part
    expect(amounts(allocate(money(7, 'EUR'), [30, 70]))).toEqual([2, 5]);
  });

  it('breaks ties deterministically by position', () => {
    expect(amounts(allocate(money(2, 'EUR'), [1, 1, 1, 1]))).toEqual([1, 1, 0, 0]);
    expect(amounts(allocate(money(2, 'EUR'), [1, 1, 1, 1]))).toEqual(amounts(allocate(money(2, 'EUR'), [1, 1, 1, 1])));
  });

  it('never gives units to a zero ratio', () => {
    expect(amounts(allocate(money(5, 'EUR'), [0, 1, 1, 0]))).toEqual([0, 3, 2, 0]);
  });

  it('mirrors a negative total', () => {
    expect(amounts(allocate(money(-100, 'EUR'), [1, 1, 1]))).toEqual([-34, -33, -33]);
  });

  it('stays exact where amount × ratio exceeds 2^53 and keeps the currency', () => {
    const total = money(Number.MAX_SAFE_INTEGER, 'JPY');
    const parts = allocate(total, [Number.MAX_SAFE_INTEGER - 1, 1, 1]);
    expect(sum(parts, 'JPY')).toEqual(total);
    expect(parts.every((p) => p.currency === 'JPY' && Number.isSafeInteger(p.amount))).toBe(true);
  });

  it('always sums back to the total over many shapes', () => {
    const ratioSets = [[1], [1, 1], [3, 7], [1, 2, 3, 4, 5, 6, 7], [0, 0, 9], [999_999, 1, 1]];
    for (const amount of [0, 1, 2, 99, 100, 101, 12_345, -1, -12_345]) {
      for (const ratios of ratioSets) {
        const parts = allocate(money(amount, 'KWD'), ratios);
        expect(parts).toHaveLength(ratios.length);
        expect(sum(parts, 'KWD').amount).toBe(amount);
      }
    }
  });

  it('refuses empty, negative, fractional and zero-sum ratios, naming the problem', () => {
    expectRefused(() => allocate(money(100, 'EUR'), []), 'MONEY_ALLOCATION_INVALID', /at least one ratio/);
    expectRefused(() => allocate(money(100, 'EUR'), [1, -1]), 'MONEY_ALLOCATION_INVALID', /ratio 1 must not be negative/);
    expectRefused(() => allocate(money(100, 'EUR'), [0.5, 0.5]), 'MONEY_ALLOCATION_INVALID', /ratio 0 must be a whole number/);
    expectRefused(() => allocate(money(100, 'EUR'), [0, 0]), 'MONEY_ALLOCATION_INVALID', /add up to zero/);
    expectRefused(() => allocate({ amount: 1.5, currency: 'EUR' }, [1]), 'MONEY_NOT_SAFE_INTEGER');
  });
});

describe('minorUnitsToDecimalString', () => {
  it.each([
    [1234, 'EUR', '12.34'], [5, 'EUR', '0.05'], [-5, 'EUR', '-0.05'], [0, 'EUR', '0.00'],
    [1234, 'JPY', '1234'], [1234, 'KWD', '1.234'], [1, 'UYW', '0.0001'],
    [Number.MAX_SAFE_INTEGER, 'EUR', '90071992547409.91'], [-Number.MAX_SAFE_INTEGER, 'KWD', '-9007199254740.991'],
  ])('%d %s → %s', (amount, currency, expected) => {
    expect(minorUnitsToDecimalString(money(amount, currency))).toBe(expected);
  });
});

describe('formatMoney', () => {
  const nbsp = '\u00a0';

  it('uses each currency’s own ISO exponent', () => {
    expect(formatMoney(money(1234, 'JPY'), 'en-US')).toBe('¥1,234');
    expect(formatMoney(money(1234, 'KWD'), 'en-US')).toBe(`KWD${nbsp}1.234`);
    expect(formatMoney(money(123456, 'EUR'), 'de-DE')).toBe(`1.234,56${nbsp}€`);
    expect(formatMoney(money(-5, 'USD'), 'en-US')).toBe('-$0.05');
  });

  it('pins ISO decimals where CLDR’s display default differs (IQD has 3 in ISO, 0 in CLDR)', () => {
    expect(formatMoney(money(1500, 'IQD'), 'en-US')).toBe(`IQD${nbsp}1.500`);
  });

  it('formats the largest safe amount without float rounding', () => {
    // As a float, 90071992547409.91 would print as …409.92 or …409.9; the string path is exact.
    expect(formatMoney(money(Number.MAX_SAFE_INTEGER, 'EUR'), 'en-US')).toBe('€90,071,992,547,409.91');
  });

  it('accepts a currency display option and refuses a malformed locale with a catalogued error', () => {
    expect(formatMoney(money(1337, 'EUR'), 'en-US', { currencyDisplay: 'code' })).toBe(`EUR${nbsp}13.37`);
    expectRefused(() => formatMoney(money(1, 'EUR'), 'not a locale!'), 'VALIDATION_FAILED');
  });
});

describe('parseMoney', () => {
  it.each([
    ['13,37', 1337], ['13.37', 1337], ['1.234,56', 123456], ['1,234.56', 123456], ['1 234,56', 123456],
    ['1\u202f234,56', 123456], ['1\u00a0234,56', 123456], ["1'234.56", 123456], ['13', 1300], ['0', 0],
    ['13,5', 1350], ['.5', 50], [' +7 ', 700], ['1.234.567', 123456700], ['1,234,567.89', 123456789],
    ['12,34,567.00', 123456700], ['€13,37', 1337], ['13,37 €', 1337], ['EUR 13.37', 1337], ['13.37 eur', 1337],
    ['-0', 0], ['00013.37', 1337],
  ])('EUR %j → %d', (input, amount) => {
    expect(parseMoney(input, 'EUR')).toEqual({ amount, currency: 'EUR' });
  });

  it('reads amounts in zero- and three-decimal currencies', () => {
    expect(parseMoney('1234', 'JPY')).toEqual({ amount: 1234, currency: 'JPY' });
    expect(parseMoney('¥1,234', 'JPY')).toEqual({ amount: 1234, currency: 'JPY' });
    expect(parseMoney('1.5', 'KWD')).toEqual({ amount: 1500, currency: 'KWD' });
    expect(parseMoney('1.234,567', 'KWD')).toEqual({ amount: 1234567, currency: 'KWD' });
  });

  it('decides the ambiguous "1,234" by the currency exponent when no locale is given', () => {
    expect(parseMoney('1,234', 'EUR').amount).toBe(123400);
    expect(parseMoney('1.234', 'EUR').amount).toBe(123400);
    expect(parseMoney('1,234', 'JPY').amount).toBe(1234);
    expect(parseMoney('1,234', 'KWD').amount).toBe(1234);
    expect(parseMoney('1.234', 'KWD').amount).toBe(1234);
    // …but a thousands group never follows a bare zero or nothing
    expect(parseMoney('0.234', 'KWD').amount).toBe(234);
    expectRefused(() => parseMoney('0,234', 'EUR'), 'MONEY_PARSE_FAILED', /EUR has 2 decimal places, the input has 3/);
    expectRefused(() => parseMoney('.234', 'EUR'), 'MONEY_PARSE_FAILED', /EUR has 2 decimal places/);
  });

  it('decides the ambiguous "1,234" by the locale when one is given', () => {
    expect(parseMoney('1,234', 'KWD', { locale: 'en-US' }).amount).toBe(1234000);
    expect(parseMoney('1.234', 'KWD', { locale: 'de-DE' }).amount).toBe(1234000);
    expect(parseMoney('1.234', 'EUR', { locale: 'de-DE' }).amount).toBe(123400);
    expectRefused(() => parseMoney('1,234', 'EUR', { locale: 'de-DE' }), 'MONEY_PARSE_FAILED', /EUR has 2 decimal places, the input has 3/);
    expectRefused(() => parseMoney('1.234', 'EUR', { locale: 'en-US' }), 'MONEY_PARSE_FAILED', /EUR has 2 decimal places/);
    // fr groups with a space, so "." is neither of its separators: the currency decides again.
    expect(parseMoney('1.234', 'EUR', { locale: 'fr-FR' }).amount).toBe(123400);
    expect(parseMoney('1 234,56', 'EUR', { locale: 'fr-FR' }).amount).toBe(123456);
  });

  it('refuses negative amounts unless allowed', () => {
    expectRefused(() => parseMoney('-1', 'EUR'), 'MONEY_PARSE_FAILED', /negative amounts are not allowed/);
    expectRefused(() => parseMoney('-€13', 'EUR'), 'MONEY_PARSE_FAILED', /negative/);
    expect(parseMoney('-1', 'EUR', { allowNegative: true }).amount).toBe(-100);
    expect(parseMoney('\u22121,50', 'EUR', { allowNegative: true }).amount).toBe(-150);
    expect(parseMoney('€-13', 'EUR', { allowNegative: true }).amount).toBe(-1300);
    expect(Object.is(parseMoney('-0', 'EUR').amount, 0)).toBe(true);
  });

  it.each([
    ['13.375x', /unexpected character "x"/], ['', /no digits/], ['-', /no digits/], ['1.2345', /EUR has 2 decimal places, the input has 4/],
    ['13.', /nothing follows the decimal separator/], ['1,2,3', /not grouped in thousands/], ['1,23,4.00', /not grouped in thousands/],
    ['1.234,56,7', /decimal separator "," appears more than once/], ['1 234.567,8', /mixes different digit-group separators/],
    ["1 234'567", /mixes spaces and apostrophes/], ['1,5.3', /not grouped in thousands/], ['1e3', /unexpected character "e"/],
    ['0x10', /unexpected character "x"/], ['Infinity', /unexpected character/], ['1.5 USD', /unexpected character "U"/],
    ['90071992547409.92', /too large/], ['1'.repeat(65), /longer than 64 characters/],
  ])('EUR %j is refused', (input, reason) => {
    expectRefused(() => parseMoney(input, 'EUR'), 'MONEY_PARSE_FAILED', reason);
  });

  it('refuses decimals a zero-decimal currency does not have', () => {
    expectRefused(() => parseMoney('13.5', 'JPY'), 'MONEY_PARSE_FAILED', /JPY has 0 decimal places, the input has 1/);
  });

  it('names the input, the currency and the field in the error', () => {
    const err = refusal(() => parseMoney('abc', 'EUR', { field: 'price' }));
    expect(isKassaError(err, 'MONEY_PARSE_FAILED')).toBe(true);
    expect(err.status).toBe(400);
    expect(err.message).toBe('Cannot read "abc" as an amount in EUR: unexpected character "a"');
    expect(err.params).toMatchObject({ input: 'abc', currency: 'EUR', field: 'price' });
    expectRefused(() => parseMoney('1', 'XYZ'), 'MONEY_CURRENCY_UNKNOWN');
  });

  it('round-trips every currency through formatMoney and back in several locales', () => {
    const mismatches: string[] = [];
    for (const currency of listCurrencies()) {
      for (const locale of ['en-US', 'de-DE', 'fr-FR']) {
        for (const amount of [7, 123456789, -98765]) {
          const printed = formatMoney(money(amount, currency), locale);
          const read = parseMoney(printed, currency, { locale, allowNegative: true }).amount;
          if (read !== amount) mismatches.push(`${amount} ${currency} ${locale} → ${printed} → ${read}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('round-trips what formatMoney prints, for the locale it printed in', () => {
    const cases: [number, string, string][] = [
      [123456, 'EUR', 'de-DE'], [123456, 'EUR', 'en-US'], [123456, 'EUR', 'fr-FR'], [123456, 'CHF', 'de-CH'],
      [1234, 'JPY', 'ja-JP'], [1234567, 'KWD', 'en-US'], [1234567, 'KWD', 'de-DE'], [5, 'EUR', 'en-IE'],
      [12345678901, 'INR', 'en-IN'],
    ];
    for (const [amount, currency, locale] of cases) {
      const printed = formatMoney(money(amount, currency), locale);
      expect([printed, parseMoney(printed, currency, { locale }).amount]).toEqual([printed, amount]);
    }
  });
});
