import { calculateFee, money, planRefusal, planSchedule, validatePlanSettings } from '@kassa/core/host';

/*
 * The plan schedule (docs/payment-plans.md) as pure functions: amounts by core's allocation (they
 * add up to the total exactly), dates by interval or fixed dates, with or without a deposit.
 */
const now = new Date('2027-03-01T10:00:00Z');
const day = 86_400_000;

describe('planSchedule', () => {
  it('gives each instalment the fee on its own share: share + fee, the shares adding up to the base exactly', () => {
    const s = validatePlanSettings({ enabled: true, instalments: 3, intervalDays: 30 });
    const plan = planSchedule(money(1000, 'EUR'), s, now, (share) => calculateFee(share, { absolute: 25, percent: '1.5', reverse: false }));
    expect(plan.map((p) => [p.amount.amount, p.fee.amount])).toEqual([[364, 30], [363, 30], [363, 30]]);
    expect(plan.reduce((sum, p) => sum + p.amount.amount - p.fee.amount, 0)).toBe(1000);
    // Without a fee rule, no fee.
    expect(planSchedule(money(1000, 'EUR'), s, now).map((p) => [p.amount.amount, p.fee.amount])).toEqual([[334, 0], [333, 0], [333, 0]]);
  });

  it('with a deposit: the first instalment is due now, the others every interval', () => {
    const s = validatePlanSettings({ enabled: true, instalments: 3, intervalDays: 30 });
    const plan = planSchedule(money(1000, 'EUR'), s, now);
    expect(plan.map((p) => p.amount.amount)).toEqual([334, 333, 333]);
    expect(plan.map((p) => p.dueAt.getTime())).toEqual([now.getTime(), now.getTime() + 30 * day, now.getTime() + 60 * day]);
  });

  it('without a deposit: nothing is due now; the first instalment comes after the interval', () => {
    const s = validatePlanSettings({ enabled: true, instalments: 3, intervalDays: 14, noDeposit: 'on' });
    expect(s.noDeposit).toBe(true);
    const plan = planSchedule(money(1000, 'EUR'), s, now);
    expect(plan.map((p) => p.seq)).toEqual([1, 2, 3]);
    expect(plan.map((p) => p.amount.amount)).toEqual([334, 333, 333]);
    expect(plan.map((p) => p.dueAt.getTime())).toEqual([now.getTime() + 14 * day, now.getTime() + 28 * day, now.getTime() + 42 * day]);
  });

  it('fixed dates: after the deposit, or all of them without one (at least two then)', () => {
    const withDeposit = validatePlanSettings({ enabled: true, fixedDates: '2027-04-01, 2027-05-01' });
    expect(withDeposit.instalments).toBe(3);
    expect(planSchedule(money(900, 'EUR'), withDeposit, now).map((p) => p.dueAt.toISOString().slice(0, 10))).toEqual(['2027-03-01', '2027-04-01', '2027-05-01']);
    const none = validatePlanSettings({ enabled: true, fixedDates: '2027-04-01, 2027-05-01', noDeposit: true });
    expect(none.instalments).toBe(2);
    expect(planSchedule(money(900, 'EUR'), none, now).map((p) => [p.dueAt.toISOString().slice(0, 10), p.amount.amount])).toEqual([['2027-04-01', 450], ['2027-05-01', 450]]);
    expect(() => validatePlanSettings({ enabled: true, fixedDates: '2027-04-01', noDeposit: true })).toThrow(expect.objectContaining({ code: 'PLAN_SETTINGS_INVALID', params: expect.objectContaining({ field: 'fixedDates' }) }));
  });

  it('refuses below the minimum total and a total too small to split', () => {
    const s = validatePlanSettings({ enabled: true, instalments: 3, minTotal: 500 });
    expect(planRefusal(money(499, 'EUR'), s, now)).toMatch(/start at a total of 500/);
    expect(planRefusal(money(500, 'EUR'), s, now)).toBeNull();
    expect(planRefusal(money(2, 'EUR'), validatePlanSettings({ enabled: true, instalments: 3 }), now)).toMatch(/too small/);
    expect(planRefusal(money(5000, 'EUR'), validatePlanSettings({ enabled: false }), now)).toMatch(/offers no payment plans/);
  });
});
