import { invalidRequest } from './errors';
import type { ResolvedOptions } from './options';

/** §7.1: Stripe's own exponent table, which differs from ISO 4217 for ISK and UGX. */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);
/** Two-decimal in Stripe's units but no fractions chargeable: amounts must be multiples of 100. */
const TIMES_100 = new Set(['isk']);

/** §7.2 minimums in minor units (Stripe's units). */
const MINIMUMS: Record<string, number> = {
  usd: 50, aed: 200, ars: 50, aud: 50, brl: 50, cad: 50, chf: 50, cop: 50, czk: 1500, dkk: 250, eur: 50, gbp: 30,
  hkd: 400, huf: 17500, idr: 50, ils: 50, inr: 50, jpy: 50, krw: 50, mxn: 1000, myr: 200, nok: 300, nzd: 50,
  php: 50, pln: 200, ron: 200, rub: 50, sek: 300, sgd: 50, thb: 1000, zar: 50,
};

export function exponent(currency: string, options: ResolvedOptions): number {
  if (currency === 'ugx') return options.ugxMode === 'zero-decimal' ? 0 : 2;
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMAL.has(currency)) return 3;
  return 2;
}

export function isZeroDecimal(currency: string, options: ResolvedOptions): boolean {
  return exponent(currency, options) === 0;
}

/** §7.1: the presentment currencies Stripe accepts; any other code is refused, whatever its shape. */
export const SUPPORTED_CURRENCIES: ReadonlySet<string> = new Set(
  ('usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf clp cny cop ' +
    'crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes ' +
    'kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd ' +
    'omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std stn szl thb tjs tnd top try ttd ' +
    'twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xcg xof xpf yer zar zmw').split(' '),
);

export function parseCurrency(value: string, param = 'currency'): string {
  const c = value.toLowerCase();
  if (!SUPPORTED_CURRENCIES.has(c)) {
    throw invalidRequest(`Invalid currency: ${c}. Stripe currently supports these currencies: ${[...SUPPORTED_CURRENCIES].join(', ')}`, { param });
  }
  return c;
}

/** Formats minor units for error messages ("$0.50", "¥50"), integer arithmetic only. */
function formatAmount(amount: number, currency: string, options: ResolvedOptions): string {
  const e = exponent(currency, options);
  if (e === 0) return `${amount} ${currency.toUpperCase()}`;
  const s = String(amount).padStart(e + 1, '0');
  return `${s.slice(0, -e)}.${s.slice(-e)} ${currency.toUpperCase()}`;
}

/**
 * Checks an amount against §7: positive integer, minimum per currency, 8-digit maximum,
 * three-decimal last digit 0, ISK/UGX multiples of 100. `checkMinimum` is off for refunds.
 */
export function validateAmount(amount: number, currency: string, options: ResolvedOptions, param = 'amount', checkMinimum = true): void {
  if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', { param, code: 'parameter_invalid_integer' });
  const min = options.minimumAmounts[currency] ?? MINIMUMS[currency];
  if (checkMinimum && min !== undefined && amount < min) {
    throw invalidRequest(`Amount must be at least ${formatAmount(min, currency, options)}`, { param, code: 'amount_too_small' });
  }
  if (String(amount).length > options.maxAmountDigits) {
    throw invalidRequest(`Amount must be no more than ${'9'.repeat(options.maxAmountDigits)}`, { param, code: 'amount_too_large' });
  }
  if (options.threeDecimalLastDigitZero && THREE_DECIMAL.has(currency) && amount % 10 !== 0) {
    throw invalidRequest(`Invalid amount: ${currency.toUpperCase()} amounts must end in 0 (round to the nearest 10 minor units).`, {
      param,
      code: options.errorCodes.threeDecimalLastDigit ?? undefined,
    });
  }
  const times100 = TIMES_100.has(currency) || (currency === 'ugx' && options.ugxMode === 'times100');
  if (times100 && amount % 100 !== 0) {
    throw invalidRequest(`Invalid amount: ${currency.toUpperCase()} amounts must be divisible by 100 (fractions cannot be charged).`, {
      param,
      code: options.errorCodes.fractionalTimes100 ?? undefined,
    });
  }
}
