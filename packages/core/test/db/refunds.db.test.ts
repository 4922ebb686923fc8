import { Order, OrderPayment, OrderRefund, money } from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;
const eur = (amount: number) => money(amount, 'EUR');

describe('refunds', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  const payment = (id: string) => h.ds.manager.findOneByOrFail(OrderPayment, { id });

  /** A 100.00 order paid by two card payments of 60.00 and 40.00. */
  async function paidInTwo() {
    const { order } = await h.order(await h.shop({ price: 10_000 }), { provider: 'bank' });
    const a = await h.core.payments.createPayment(order.id, { provider: 'card', amount: eur(6000), actor: admin });
    const b = await h.core.payments.createPayment(order.id, { provider: 'card', amount: eur(4000), actor: admin });
    await h.core.payments.confirmPayment(a.id, { actor: card });
    await h.core.payments.confirmPayment(b.id, { actor: card });
    return { order, a, b };
  }

  it('partial refunds across two payments: never more than refundable, payment refunded once covered', async () => {
    const { order, a, b } = await paidInTwo();
    const r1 = await h.core.refunds.createRefund(order.id, { paymentId: a.id, amount: eur(3000), source: 'admin', comment: 'goodwill', actor: admin });
    expect(r1).toMatchObject({ outcome: { kind: 'done' }, refund: { state: 'done', amount: 3000, localId: 1, externalId: `re-${r1.refund.id}` } });
    expect((await payment(a.id)).state).toBe('confirmed');

    const before = await snapshotRows(h.ds);
    expect(await errorCode(h.core.refunds.createRefund(order.id, { paymentId: a.id, amount: eur(3001), source: 'admin', actor: admin })))
      .toBe('REFUND_AMOUNT_EXCEEDS_AVAILABLE');
    expect(await snapshotRows(h.ds)).toEqual(before);

    await h.core.refunds.createRefund(order.id, { paymentId: a.id, amount: eur(3000), source: 'buyer', actor: admin });
    expect((await payment(a.id)).state).toBe('refunded');
    await h.core.refunds.createRefund(order.id, { paymentId: b.id, amount: eur(1000), source: 'admin', actor: admin });
    expect((await payment(b.id)).state).toBe('confirmed');

    // Money is owed again, so the first refund already set the order back to pending (pretix).
    expect(await h.core.orders.getSummary(order.id)).toMatchObject({
      status: 'pending', paymentRefundSum: 3000, pendingSum: 7000, isUnderpaid: false, isOverpaid: false, hasPendingRefund: false,
    });
    expect((await logActions(h.ds, order.id)).filter((x) => x.startsWith('kassa.order.refund') || x === 'kassa.order.payment.refunded')).toEqual([
      // The payment is refunded as soon as the refund covering it is created, before it is done.
      'kassa.order.refund.created', 'kassa.order.refund.done', 'kassa.order.refund.created', 'kassa.order.payment.refunded',
      'kassa.order.refund.done', 'kassa.order.refund.created', 'kassa.order.refund.done',
    ]);
    expect(h.card.calls.filter((c) => c.method === 'executeRefund').slice(-3).map((c) => c.amount)).toEqual([3000, 3000, 1000]);
  });

  it('never refunds more than the payment under concurrency: of 5 racing 60 % refunds exactly one is booked', async () => {
    const { order, a } = await paidInTwo();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () =>
      h.core.refunds.createRefund(order.id, { paymentId: a.id, amount: eur(3600), source: 'admin', actor: admin })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code))
      .toEqual(Array(4).fill('REFUND_AMOUNT_EXCEEDS_AVAILABLE'));
    const [row] = await h.ds.query(`SELECT count(*)::int AS n, sum(amount)::int AS s FROM order_refund WHERE payment_id = $1`, [a.id]);
    expect(row).toEqual({ n: 1, s: 3600 });
  });

  it('counts a created or in-transit refund against what is refundable', async () => {
    const { order, b } = await paidInTwo();
    h.card.refundOutcomes.push({ kind: 'transit' });
    const r = await h.core.refunds.createRefund(order.id, { paymentId: b.id, amount: eur(4000), source: 'admin', actor: admin });
    expect(r.refund.state).toBe('transit');
    expect(await h.core.orders.getSummary(order.id)).toMatchObject({ hasPendingRefund: true, paymentRefundSum: 6000 });
    // In transit counts as refunded (pretix's refunded_amount): the payment is refunded already.
    expect((await payment(b.id)).state).toBe('refunded');
    expect(await errorCode(h.core.refunds.createRefund(order.id, { paymentId: b.id, amount: eur(1), source: 'admin', actor: admin })))
      .toBe('REFUND_PAYMENT_NOT_CONFIRMED');
    await h.core.refunds.markRefundDone(r.refund.id, { actor: card });
    await h.core.refunds.markRefundDone(r.refund.id, { actor: card }); // a repeated report is a no-op
    expect((await payment(b.id)).state).toBe('refunded');
    expect((await logActions(h.ds, order.id)).filter((x) => x === 'kassa.order.refund.done')).toHaveLength(1);
  });

  it('a failed provider refund frees the amount again; a done refund that later fails un-refunds the payment', async () => {
    const { order, b } = await paidInTwo();
    h.card.refundOutcomes.push(new Error('gateway timeout'));
    const failed = await h.core.refunds.createRefund(order.id, { paymentId: b.id, amount: eur(4000), source: 'admin', actor: admin });
    expect(failed).toMatchObject({ outcome: { kind: 'failed', message: 'gateway timeout' }, refund: { state: 'failed' } });
    const done = await h.core.refunds.createRefund(order.id, { paymentId: b.id, amount: eur(4000), source: 'admin', actor: admin });
    expect((await payment(b.id)).state).toBe('refunded');
    await h.core.refunds.markRefundFailed(done.refund.id, { actor: card, message: 'refund.failed webhook' });
    expect((await payment(b.id)).state).toBe('confirmed');
    expect(await outboxTopics(h.ds, order.id)).toEqual(expect.arrayContaining(['refund.failed', 'payment.refunded', 'payment.unrefunded']));
  });

  describe('refusals write nothing', () => {
    it.each([
      ['full refund where the provider has none', 'bank', 10_000, undefined, 'REFUND_NOT_SUPPORTED'],
      ['partial refund where the provider has none', 'bank', 5000, undefined, 'REFUND_PARTIAL_NOT_SUPPORTED'],
      ['a refund through another provider', 'bank', 5000, 'card', 'REFUND_PROVIDER_INVALID'],
      ['an unknown currency', 'bank', 5000, 'manual', 'MONEY_CURRENCY_UNKNOWN'],
      ['a negative amount', 'bank', -5, 'manual', 'MONEY_NEGATIVE'],
      ['an amount that is not an integer', 'bank', 0.5, 'manual', 'MONEY_NOT_SAFE_INTEGER'],
    ])('%s', async (_name, via, amount, provider, code) => {
      const { order, paymentId } = await h.order(await h.shop({ price: 10_000 }), { provider: via });
      await h.core.payments.manualConfirm(paymentId, { actor: admin });
      const before = await snapshotRows(h.ds);
      const currency = code === 'MONEY_CURRENCY_UNKNOWN' ? 'ABC' : 'EUR';
      expect(await errorCode(h.core.refunds.createRefund(order.id, { paymentId, amount: { amount, currency }, source: 'admin', provider, actor: admin })))
        .toBe(code);
      expect(await snapshotRows(h.ds)).toEqual(before);
    });

    it('a refund of an unconfirmed payment, in another currency, or from the external source', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      const before = await snapshotRows(h.ds);
      const refund = (over: object) => h.core.refunds.createRefund(order.id, { paymentId, amount: eur(500), source: 'admin', actor: admin, ...over });
      expect(await errorCode(refund({}))).toBe('REFUND_PAYMENT_NOT_CONFIRMED');
      expect(await errorCode(refund({ amount: money(500, 'USD') }))).toBe('MONEY_CURRENCY_MISMATCH');
      expect(await errorCode(refund({ source: 'external' }))).toBe('REFUND_SOURCE_INVALID');
      expect(await snapshotRows(h.ds)).toEqual(before);
    });

    it('forbidden refund transitions', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      const { refund } = await h.core.refunds.createRefund(order.id, { paymentId, amount: eur(1000), source: 'admin', actor: admin });
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.refunds.markRefundTransit(refund.id, { actor: card }))).toBe('STATE_TRANSITION_NOT_ALLOWED');
      expect(await errorCode(h.core.refunds.markRefundCanceled(refund.id, admin))).toBe('STATE_TRANSITION_NOT_ALLOWED');
      expect(await errorCode(h.core.refunds.processExternalRefund(refund.id, { action: 'pending', actor: admin }))).toBe('REFUND_NOT_EXTERNAL');
      expect(await snapshotRows(h.ds)).toEqual(before);
    });
  });

  it('a manual refund is always possible and never sent to a provider', async () => {
    const { order, paymentId } = await h.order(await h.shop(), { provider: 'bank' });
    await h.core.payments.manualConfirm(paymentId, { actor: admin });
    const calls = h.bank.calls.length;
    const { refund, outcome } = await h.core.refunds.createRefund(order.id, { paymentId, amount: eur(400), source: 'admin', provider: 'manual', actor: admin });
    expect(outcome).toBeUndefined();
    expect(refund).toMatchObject({ state: 'created', provider: 'manual', amount: 400 });
    expect(h.bank.calls.length).toBe(calls);
    await h.core.refunds.markRefundDone(refund.id, { actor: admin });
    expect((await h.ds.manager.findOneByOrFail(OrderRefund, { id: refund.id })).executionDate).toEqual(h.clock.now());
  });

  describe('external refunds', () => {
    async function paidOrder() {
      const { order, paymentId } = await h.order(await h.shop());
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      return { order, paymentId };
    }

    it('wait for the organizer: not counted until processed; "pending" reopens the order with a new expiry', async () => {
      const { order, paymentId } = await paidOrder();
      const { refund, created } = await h.core.refunds.createExternalRefund(paymentId, { externalId: 're_ext_1', info: { reason: 'dashboard' } });
      expect(created).toBe(true);
      expect(refund).toMatchObject({ state: 'external', source: 'external', amount: 1000, provider: 'card' });
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'paid', pendingSum: 0, hasExternalRefund: true });
      expect(await logActions(h.ds, order.id)).toContain('kassa.order.refund.created.externally');
      expect(await outboxTopics(h.ds, order.id)).toContain('refund.external');

      await h.core.refunds.processExternalRefund(refund.id, { action: 'pending', actor: admin });
      const after = await h.ds.manager.findOneByOrFail(Order, { id: order.id });
      expect(after.status).toBe('pending');
      expect(after.expires.getTime()).toBe(h.clock.now().getTime() + 14 * 86_400_000);
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ pendingSum: 1000, hasExternalRefund: false });
      expect((await payment(paymentId)).state).toBe('refunded');
    });

    it('"pending" leaves an order paid while it is still fully covered, and reopens an expired one', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      const second = await h.core.payments.createPayment(order.id, { provider: 'card', amount: eur(1000), actor: admin });
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      await h.core.payments.confirmPayment(second.id, { actor: card });
      const partial = await h.core.refunds.createExternalRefund(second.id, { amount: eur(400), externalId: 're_part' });
      expect(partial.refund.state).toBe('external'); // 400 does not exactly return the 1000 over-payment
      await h.core.refunds.processExternalRefund(partial.refund.id, { action: 'pending', actor: admin });
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'paid', pendingSum: -600, isOverpaid: true });

      const late = await paidOrder();
      await h.ds.query(`UPDATE kassa_order SET status = 'expired' WHERE id = $1`, [late.order.id]); // e.g. marked expired by hand
      const { refund } = await h.core.refunds.createExternalRefund(late.paymentId, { amount: eur(400), externalId: 're_late' });
      await h.core.refunds.processExternalRefund(refund.id, { action: 'pending', actor: admin });
      expect(await h.core.orders.getSummary(late.order.id)).toMatchObject({ status: 'pending', pendingSum: 400 });
      expect(await logActions(h.ds, late.order.id)).toContain('kassa.order.unpaid');
    });

    it('"cancel" cancels the order', async () => {
      const { order, paymentId } = await paidOrder();
      const { refund } = await h.core.refunds.createExternalRefund(paymentId, { externalId: 're_ext_2' });
      await h.core.refunds.processExternalRefund(refund.id, { action: 'cancel', actor: admin });
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'canceled', pendingSum: 0, isOverpaid: false });
      expect(await outboxTopics(h.ds, order.id)).toEqual(expect.arrayContaining(['refund.done', 'order.canceled']));
    });

    it('are booked once per external id: a second report returns the first row and writes nothing', async () => {
      const { paymentId } = await paidOrder();
      const first = await h.core.refunds.createExternalRefund(paymentId, { externalId: 're_dup', amount: eur(300) });
      const before = await snapshotRows(h.ds);
      const again = await h.core.refunds.createExternalRefund(paymentId, { externalId: 're_dup', amount: eur(300) });
      expect(again).toEqual({ refund: expect.objectContaining({ id: first.refund.id }), created: false });
      expect(await snapshotRows(h.ds)).toEqual(before);
      const reports = await Promise.all(Array.from({ length: 10 }, () => h.core.refunds.createExternalRefund(paymentId, { externalId: 're_dup_2' })));
      expect(reports.filter((r) => r.created)).toHaveLength(1);
    });

    it('are processed at once when they exactly return an over-payment', async () => {
      // the buyer paid twice, through two attempts opened side by side
      const { order, paymentId } = await h.order(await h.shop());
      const second = await h.core.payments.createPayment(order.id, { provider: 'card', amount: eur(1000), actor: admin });
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      await h.core.payments.confirmPayment(second.id, { actor: card });
      expect((await h.core.orders.getSummary(order.id)).isOverpaid).toBe(true);
      const { refund } = await h.core.refunds.createExternalRefund(second.id, { externalId: 're_double' });
      expect(refund.state).toBe('done');
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'paid', pendingSum: 0, isOverpaid: false, hasExternalRefund: false });
      expect((await payment(second.id)).state).toBe('refunded');
      expect((await payment(paymentId)).state).toBe('confirmed');
    });

    it('refuse a payment that never received money', async () => {
      const { paymentId } = await h.order(await h.shop());
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.refunds.createExternalRefund(paymentId, {}))).toBe('REFUND_PAYMENT_NOT_CONFIRMED');
      expect(await snapshotRows(h.ds)).toEqual(before);
    });
  });

  it('proposeRefunds spreads an amount across payments as pretix does', async () => {
    const { order } = await h.order(await h.shop({ price: 10_000 }), { provider: 'bank' });
    const pay = async (provider: string, amount: number) => {
      const p = await h.core.payments.createPayment(order.id, { provider, amount: eur(amount), actor: admin });
      await h.core.payments.manualConfirm(p.id, { actor: admin });
      return p.id;
    };
    const a = await pay('card', 3000);
    const b = await pay('card', 5000);
    await pay('bank', 2000); // no automatic refunds
    const propose = async (amount: number) => {
      const { proposals, uncovered } = await h.core.refunds.proposeRefunds(order.id, eur(amount));
      return { proposals: proposals.map((p) => [p.payment.id, p.amount.amount]), uncovered };
    };
    expect(await propose(5000)).toEqual({ proposals: [[b, 5000]], uncovered: 0 }); // exact match
    expect(await propose(2500)).toEqual({ proposals: [[a, 2500]], uncovered: 0 }); // smallest bigger, partially
    expect(await propose(6000)).toEqual({ proposals: [[b, 5000], [a, 1000]], uncovered: 0 });
    expect(await propose(9000)).toEqual({ proposals: [[b, 5000], [a, 3000]], uncovered: 1000 });
    await h.core.refunds.createRefund(order.id, { paymentId: b, amount: eur(4500), source: 'admin', actor: admin });
    expect(await propose(3000)).toEqual({ proposals: [[a, 3000]], uncovered: 0 });
  });
});
