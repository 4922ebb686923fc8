import { currencyExponent, KassaError, type Money } from '@kassa/core';

/**
 * Our amounts are ISO 4217 minor units; Stripe's are its own (reference/stripe-spec.md §7.1).
 * Where the two disagree the difference lives here and nowhere else:
 * - ISK and UGX are zero-decimal in ISO but two-decimal "with 00" at Stripe: ×100, and Stripe
 *   can only charge whole units (so any amount we send is a multiple of 100 by construction).
 * - Three-decimal currencies (BHD JOD KWD OMR TND) keep exponent 3 but Stripe requires the last
 *   digit to be 0; an amount that does not quantize exactly is refused, never rounded silently.
 */
const stripeExtraFactor: Record<string, number> = { ISK: 100, UGX: 100 };
const threeDecimal = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/** Whether Stripe can represent this amount exactly. */
export function isStripeRepresentable(m: Money): boolean {
  return !(threeDecimal.has(m.currency) && m.amount % 10 !== 0);
}

/** Our minor units → Stripe's integer amount and lowercase currency code. */
export function toStripeAmount(m: Money): { amount: number; currency: string } {
  if (currencyExponent(m.currency) === undefined) throw new KassaError('MONEY_CURRENCY_UNKNOWN', { currency: m.currency });
  if (!isStripeRepresentable(m)) {
    throw new KassaError('PAYMENT_AMOUNT_INVALID', {
      amount: `${m.amount} ${m.currency}`,
      reason: 'Stripe needs three-decimal amounts to end in 0',
    });
  }
  const amount = m.amount * (stripeExtraFactor[m.currency] ?? 1);
  if (!Number.isSafeInteger(amount)) throw new KassaError('MONEY_NOT_SAFE_INTEGER', { field: 'amount', value: amount });
  return { amount, currency: m.currency.toLowerCase() };
}

/** Stripe's integer amount and (any-case) currency → our Money. Refuses fractions of a unit. */
export function fromStripeAmount(amount: number, currency: string): Money {
  const code = currency.toUpperCase();
  if (currencyExponent(code) === undefined) throw new KassaError('MONEY_CURRENCY_UNKNOWN', { currency });
  if (!Number.isSafeInteger(amount)) throw new KassaError('MONEY_NOT_SAFE_INTEGER', { field: 'amount', value: amount });
  const factor = stripeExtraFactor[code] ?? 1;
  if (amount % factor !== 0) {
    throw new KassaError('PAYMENT_AMOUNT_INVALID', { amount: `${amount} ${code}`, reason: `Stripe amount is not a multiple of ${factor}` });
  }
  return { amount: amount / factor, currency: code };
}
