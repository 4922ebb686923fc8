import { KassaError } from '@kassa/core';
import type Stripe from 'stripe';
import { amountFrom, scheduleFrom } from '../../src/connect/payouts/operator-routes';
import { balanceView, scheduleView } from '../../src/connect/payouts/payout-routes';
import { decimal } from '../../src/connect/payouts/reconciliation';
import { dueOf } from '../../src/connect/requirements-email';

/** The pure parts of the payout pages: amounts as decimal text, the operator's form input, the due list. */
describe('Connect payouts: amounts, schedules, forms', () => {
  const field = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      return err instanceof KassaError ? String((err.params as { field?: string }).field) : 'not a KassaError';
    }
    return undefined;
  };

  it('money as decimal text in the currency\'s exponent', () => {
    expect(decimal(2250, 'EUR')).toBe('22.50');
    expect(decimal(-300, 'EUR')).toBe('-3.00');
    expect(decimal(1234, 'JPY')).toBe('1234');
    expect(decimal(1500, 'KWD')).toBe('1.500');
  });

  it('the balance per currency, in our units (ISK is two-decimal at Stripe)', () => {
    const balance = {
      available: [{ amount: 4500, currency: 'eur' }, { amount: 150000, currency: 'isk' }],
      pending: [{ amount: 120, currency: 'eur' }],
    } as unknown as Stripe.Balance;
    expect(balanceView(balance)).toEqual([
      { currency: 'EUR', available: '45.00', pending: '1.20' },
      { currency: 'ISK', available: '1500', pending: '0' },
    ]);
  });

  it('the schedule in words', () => {
    const s = (schedule: object) => scheduleView({ settings: { payouts: { schedule } } } as unknown as Stripe.Account);
    expect(s({ interval: 'manual', delay_days: 2 })).toBe('manual');
    expect(s({ interval: 'daily', delay_days: 2 })).toBe('daily, 2 days delay');
    expect(s({ interval: 'weekly', weekly_anchor: 'friday', delay_days: 7 })).toBe('weekly on friday, 7 days delay');
  });

  it('the operator\'s amount: decimal text with at most the currency\'s decimals, positive', () => {
    expect(amountFrom('10', 'EUR')).toBe(1000);
    expect(amountFrom('10.5', 'EUR')).toBe(1050);
    expect(amountFrom('10,05', 'EUR')).toBe(1005);
    expect(amountFrom('1234', 'JPY')).toBe(1234);
    expect(amountFrom('1.234', 'KWD')).toBe(1234);
    for (const bad of ['', '0', '0.00', '-1', '1.001', '1e3', '12.3.4', 'ten']) expect([bad, field(() => amountFrom(bad, 'EUR'))]).toEqual([bad, 'amount']);
    expect(field(() => amountFrom('1.5', 'JPY'))).toBe('amount');
    expect(field(() => amountFrom('1', 'XYZ'))).toBe('currency');
  });

  it('the operator\'s schedule: manual, daily, weekly on a weekday, monthly on a day', () => {
    expect(scheduleFrom({ interval: 'manual', weeklyAnchor: '', monthlyAnchor: '' })).toEqual({ interval: 'manual' });
    expect(scheduleFrom({ interval: 'weekly', weeklyAnchor: 'monday', monthlyAnchor: '' })).toEqual({ interval: 'weekly', weekly_anchor: 'monday' });
    expect(scheduleFrom({ interval: 'monthly', weeklyAnchor: '', monthlyAnchor: '15' })).toEqual({ interval: 'monthly', monthly_anchor: 15 });
    expect(field(() => scheduleFrom({ interval: 'hourly', weeklyAnchor: '', monthlyAnchor: '' }))).toBe('interval');
    expect(field(() => scheduleFrom({ interval: 'weekly', weeklyAnchor: 'someday', monthlyAnchor: '' }))).toBe('weekly_anchor');
    expect(field(() => scheduleFrom({ interval: 'monthly', weeklyAnchor: '', monthlyAnchor: '32' }))).toBe('monthly_anchor');
  });

  it('what Stripe needs: past due and currently due, once each, sorted', () => {
    expect(dueOf({ currently_due: ['b', 'a'], past_due: ['a', 'c'] })).toEqual(['a', 'b', 'c']);
    expect(dueOf(null)).toEqual([]);
  });
});
