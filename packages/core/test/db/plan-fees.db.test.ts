import { createPlanHarness, type PlanHarness } from './plan-harness';

/*
 * A plan's payment fees against the real database (docs/payment-plans.md, "Fees"): the order's
 * total without its payment fee is split by core's allocation rules, each instalment then gets
 * the provider's fee on its own share (pretix computes a fee per payment), one fee row per
 * instalment carried by its payment, and the order's total follows.
 */
describe('payment plan fees', () => {
  let h: PlanHarness;
  beforeAll(async () => { h = await createPlanHarness(); });
  afterAll(async () => { await h.destroy(); });
  afterEach(() => { h.saved.common = { _enabled: true }; });

  const totalOf = async (orderId: string) => Number((await h.ds.query('SELECT total::text AS total FROM kassa_order WHERE id = $1', [orderId]))[0].total);
  /** Each payment's amount and the value of the fee row it carries (null: none), in order. */
  const payments = async (orderId: string) => (await h.ds.query(
    `SELECT p.amount::int AS amount, f.value::int AS fee, f.canceled AS "feeCanceled"
       FROM order_payment p LEFT JOIN order_fee f ON f.id = p.fee_id WHERE p.order_id = $1 ORDER BY p.local_id`, [orderId],
  )) as { amount: number; fee: number | null; feeCanceled: boolean | null }[];
  const liveFees = async (orderId: string) => (await h.ds.query(
    `SELECT value::int AS value FROM order_fee WHERE order_id = $1 AND fee_type = 'payment' AND NOT canceled ORDER BY value`, [orderId],
  )).map((r: { value: number }) => r.value);

  it('fixed + percent fee, 3 instalments: each instalment is its share plus its own fee, and the order total is the products plus the fees', async () => {
    // 0.25 + 1.5 %, forward (pretix's default is reverse): on the whole 10.00 the order was placed with 0.40 (total 10.40).
    h.saved.common = { _enabled: true, _feeAbs: 25, _feePercent: '1.5', _feeReverseCalc: false };
    const shop = await h.shop({ instalments: 3 }, 1000);
    const { order } = await h.planOrder(shop, { payDeposit: false });
    // 10.00 in three: 3.34, 3.33, 3.33; fee 0.25 + 1.5 % of each (0.0501 and 0.04995, both rounded half-up to 0.05).
    const view = (await h.core.plans.view(order.id))!;
    expect(view.instalments.map((i) => i.amount)).toEqual([364, 363, 363]);
    expect(await payments(order.id)).toEqual([
      { amount: 364, fee: 30, feeCanceled: false }, { amount: 363, fee: 30, feeCanceled: false }, { amount: 363, fee: 30, feeCanceled: false },
    ]);
    expect(await liveFees(order.id)).toEqual([30, 30, 30]);
    expect(await totalOf(order.id)).toBe(1000 + 90);
    expect(view.instalments.reduce((s, i) => s + i.amount, 0)).toBe(1090);
    const [log] = await h.ds.query(`SELECT data FROM log_entry WHERE order_id = $1 AND action = 'kassa.plan.created'`, [order.id]);
    expect(log.data).toMatchObject({ fee: 90, previousFee: 40, total: 1090, previousTotal: 1040, instalments: [{ seq: 1, amount: 364, fee: 30 }, { seq: 2, fee: 30 }, { seq: 3, fee: 30 }] });

    // Every instalment paid: the order is paid, neither over- nor underpaid.
    await h.core.payments.executePayment(view.instalments[0]!.paymentId, {});
    h.clock.advance({ days: 30 });
    await h.core.chargeRuns.run({ concurrency: 1 });
    h.clock.advance({ days: 30 });
    await h.core.chargeRuns.run({ concurrency: 1 });
    h.clock.advance({ days: -60 });
    expect((await h.core.plans.view(order.id))!.instalments.map((i) => i.state)).toEqual(['paid', 'paid', 'paid']);
    const summary = await h.core.orders.getSummary(order.id);
    expect(summary.status).toBe('paid');
    const [sums] = await h.ds.query(`SELECT coalesce(sum(amount), 0)::int AS paid FROM order_payment WHERE order_id = $1 AND state = ANY($2)`, [order.id, ['confirmed']]);
    expect(sums.paid).toBe(1090);
  });

  it('a provider without fees splits the total as before', async () => {
    const shop = await h.shop({ instalments: 3 }, 1000);
    const { order } = await h.planOrder(shop, { payDeposit: false });
    expect((await h.core.plans.view(order.id))!.instalments.map((i) => i.amount)).toEqual([334, 333, 333]);
    expect(await payments(order.id)).toEqual([0, 1, 2].map(() => ({ amount: expect.any(Number), fee: null, feeCanceled: null })));
    expect(await liveFees(order.id)).toEqual([]);
    expect(await totalOf(order.id)).toBe(1000);
  });

  it('a reverse fee: each instalment is grossed up on its own share, so the organizer keeps the share after the gateway\'s percentage', async () => {
    h.saved.common = { _enabled: true, _feePercent: '10', _feeReverseCalc: true };
    const shop = await h.shop({ instalments: 3 }, 1000);
    const { order } = await h.planOrder(shop, { payDeposit: false });
    // 3.34 / 0.9 = 3.7111 → 3.71 (fee 0.37); 3.33 / 0.9 = 3.70 (fee 0.37). Forward 10 % would be 0.33 each.
    const view = (await h.core.plans.view(order.id))!;
    expect(view.instalments.map((i) => i.amount)).toEqual([371, 370, 370]);
    expect(await liveFees(order.id)).toEqual([37, 37, 37]);
    expect(await totalOf(order.id)).toBe(1111);
  });

  it('without a deposit the checkout\'s attempt of 0 carries no fee; each instalment carries its own', async () => {
    h.saved.common = { _enabled: true, _feeAbs: 50 };
    const shop = await h.shop({ instalments: 2, noDeposit: true }, 900);
    const { order } = await h.planOrder(shop, { payDeposit: false });
    expect(await payments(order.id)).toEqual([
      { amount: 0, fee: null, feeCanceled: null }, { amount: 500, fee: 50, feeCanceled: false }, { amount: 500, fee: 50, feeCanceled: false },
    ]);
    expect(await totalOf(order.id)).toBe(1000);
  });

  it('a canceled plan leaves the unpaid instalments\' fees open: the paid one stays, a method switch replaces the rest by one fee on what is owed', async () => {
    h.saved.common = { _enabled: true, _feeAbs: 25, _feePercent: '1.5', _feeReverseCalc: false };
    const shop = await h.shop({ instalments: 3 }, 1000);
    const { order, paymentId } = await h.planOrder(shop);
    expect(await totalOf(order.id)).toBe(1090);
    await h.core.plans.cancelPlan(order.id, { type: 'system' });
    // Paid 3.64 (its fee 0.30 kept); 6.66 of the products still owed, the two open fees 0.60.
    expect(await h.core.payments.quotePaymentMethodChange(order.id)).toMatchObject({ base: { amount: 666 }, openFee: 60 });
    const switched = await h.core.payments.changePaymentMethod(order.id, { provider: 'saved', actor: { type: 'system' } });
    // 0.25 + 1.5 % of 6.66 = 0.35: one fee on what is owed replaces the two.
    expect(switched).toMatchObject({ fee: 35, previousFee: 60 });
    expect(await liveFees(order.id)).toEqual([30, 35]);
    expect(await totalOf(order.id)).toBe(1000 + 30 + 35);
    expect(switched.payment.amount).toBe(701);
    expect((await h.core.payments.loadPayment(paymentId)).payment.state).toBe('confirmed');
  });
});
