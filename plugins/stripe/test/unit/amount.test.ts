import { isKassaError } from '@kassa/core/host';
import { fromStripeAmount, isStripeRepresentable, toStripeAmount } from '../../src/amount';

describe('Stripe amount conversion', () => {
  it.each([
    [{ amount: 1337, currency: 'EUR' }, { amount: 1337, currency: 'eur' }],
    [{ amount: 500, currency: 'JPY' }, { amount: 500, currency: 'jpy' }],
    [{ amount: 5, currency: 'ISK' }, { amount: 500, currency: 'isk' }],
    [{ amount: 5, currency: 'UGX' }, { amount: 500, currency: 'ugx' }],
    [{ amount: 5120, currency: 'KWD' }, { amount: 5120, currency: 'kwd' }],
  ])('converts %j to Stripe units %j and back', (ours, theirs) => {
    expect(toStripeAmount(ours)).toEqual(theirs);
    expect(fromStripeAmount(theirs.amount, theirs.currency)).toEqual(ours);
  });

  it('refuses a three-decimal amount Stripe cannot represent instead of rounding it', () => {
    expect(isStripeRepresentable({ amount: 5124, currency: 'KWD' })).toBe(false);
    expect(() => toStripeAmount({ amount: 5124, currency: 'KWD' })).toThrow(/end in 0/);
  });

  it('refuses Stripe ISK amounts with fractions of a krona', () => {
    let caught: unknown;
    try { fromStripeAmount(550, 'isk'); } catch (err) { caught = err; }
    expect(isKassaError(caught, 'PAYMENT_AMOUNT_INVALID')).toBe(true);
  });

  it('refuses unknown currencies', () => {
    expect(() => toStripeAmount({ amount: 1, currency: 'XXX' })).toThrow(/Unknown currency/);
  });
});
