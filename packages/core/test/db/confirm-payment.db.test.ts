import { Order, OrderPayment, money } from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

const provider = { type: 'provider', id: 'card' } as const;

describe('payments.confirmPayment (pretix confirm())', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  it('marks the order paid once confirmed payments cover the total', async () => {
    const shop = await h.shop();
    const { order, paymentId } = await h.order(shop);
    const result = await h.core.payments.confirmPayment(paymentId, { actor: provider, info: { charge: 'ch_1' } });
    expect(result.kind).toBe('order_paid');
    expect(result.payment).toMatchObject({ state: 'confirmed', info: { charge: 'ch_1' } });
    expect(result.payment.paymentDate?.toISOString()).toBe(h.clock.now().toISOString());
    expect((await h.ds.manager.findOneByOrFail(Order, { id: order.id })).status).toBe('paid');
    expect(await logActions(h.ds, order.id)).toEqual(['kassa.order.placed', 'kassa.order.payment.confirmed', 'kassa.order.paid']);
    expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.confirmed', 'order.paid']);
  });

  it('is idempotent: 50 concurrent confirmations → one confirmation, one log entry, one outbox event', async () => {
    const shop = await h.shop();
    const { order, paymentId } = await h.order(shop);
    const results = await Promise.all(Array.from({ length: 50 }, () => h.core.payments.confirmPayment(paymentId, { actor: provider })));
    expect(results.filter((r) => r.kind === 'order_paid')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'already_confirmed')).toHaveLength(49);
    const [counts] = await h.ds.query(
      `SELECT (SELECT count(*)::int FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.payment.confirmed') AS logs,
              (SELECT count(*)::int FROM outbox_event WHERE order_id = $1 AND topic = 'payment.confirmed') AS events,
              (SELECT count(*)::int FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.paid') AS paid`, [order.id]);
    expect(counts).toEqual({ logs: 1, events: 1, paid: 1 });
  });

  it('keeps a partially paid order pending until a second payment covers it', async () => {
    const shop = await h.shop({ price: 10_000 });
    const { order } = await h.order(shop, { provider: 'bank' });
    // the buyer pays 60.00 by card, then the rest by card again
    const first = await h.core.payments.createPayment(order.id, { provider: 'card', amount: money(6000, 'EUR'), actor: admin });
    const r1 = await h.core.payments.confirmPayment(first.id, { actor: provider });
    expect(r1).toMatchObject({ kind: 'partially_paid', order: { status: 'pending', pendingSum: 4000, isUnderpaid: false } });
    const second = await h.core.payments.createPayment(order.id, { provider: 'card', actor: admin });
    expect(second).toMatchObject({ amount: 4000, localId: 3 });
    const r2 = await h.core.payments.confirmPayment(second.id, { actor: provider });
    expect(r2).toMatchObject({ kind: 'order_paid', order: { status: 'paid', pendingSum: 0, isOverpaid: false } });
  });

  it('records an over-payment: a second payment on a paid order is kept and the order is flagged overpaid', async () => {
    const shop = await h.shop();
    const { order, paymentId } = await h.order(shop);
    const double = await h.core.payments.createPayment(order.id, { provider: 'bank', actor: admin });
    await h.core.payments.confirmPayment(paymentId, { actor: provider });
    const result = await h.core.payments.confirmPayment(double.id, { actor: { type: 'provider', id: 'bank' } });
    expect(result).toMatchObject({ kind: 'order_unchanged', order: { status: 'paid', paymentRefundSum: 2000, pendingSum: -1000, isOverpaid: true } });
    expect(await logActions(h.ds, order.id)).toContain('kassa.order.overpaid');
    expect(await outboxTopics(h.ds, order.id)).toContain('order.overpaid');
  });

  it('keeps money paid for a canceled order and flags it overpaid', async () => {
    const shop = await h.shop();
    const { order, paymentId } = await h.order(shop, { provider: 'bank' });
    await h.core.orders.cancelOrder(order.id, { actor: admin });
    // the bank transfer arrives anyway: the payment was canceled, the money is real
    const result = await h.core.payments.confirmPayment(paymentId, { actor: { type: 'provider', id: 'bank' } });
    expect(result).toMatchObject({ kind: 'order_unchanged', payment: { state: 'confirmed' }, order: { status: 'canceled', isOverpaid: true, pendingSum: -1000 } });
  });

  describe('a late payment on an expired order', () => {
    async function expiredOrder(quotaSize: number, acceptLate = true) {
      const shop = await h.shop({ quotaSize, event: { paymentTermAcceptLate: acceptLate } });
      const placed = await h.order(shop);
      h.clock.advance({ days: 15 });
      await h.core.orders.expireOrders();
      expect((await h.core.orders.getSummary(placed.order.id)).status).toBe('expired');
      return { shop, ...placed };
    }

    it('revives the order when quota is left', async () => {
      const { paymentId } = await expiredOrder(1);
      const result = await h.core.payments.confirmPayment(paymentId, { actor: provider });
      expect(result).toMatchObject({ kind: 'order_paid', order: { status: 'paid' } });
    });

    it('keeps the money, leaves the order expired and flags it when the quota is gone', async () => {
      const { shop, order, paymentId } = await expiredOrder(1);
      await h.order(shop); // someone else took the last seat
      const before = await h.core.orders.getSummary(order.id);
      expect(before).toMatchObject({ status: 'expired', isPendingWithFullPayment: false });
      const result = await h.core.payments.confirmPayment(paymentId, { actor: provider });
      expect(result).toMatchObject({
        kind: 'quota_exceeded', payment: { state: 'confirmed' },
        order: { status: 'expired', isPendingWithFullPayment: true, isOverpaid: true, paymentRefundSum: 1000 },
      });
      expect(result.kind === 'quota_exceeded' && result.reason).toMatch(/quota "Quota" has 0 left/);
      const payment = await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId });
      expect(payment.state).toBe('confirmed');
      expect(await logActions(h.ds, order.id)).toEqual(expect.arrayContaining(['kassa.order.payment.confirmed', 'kassa.order.quotaexceeded']));
      expect(await logActions(h.ds, order.id)).not.toContain('kassa.order.paid');
      expect(await outboxTopics(h.ds, order.id)).toContain('order.quota_exceeded');
      // The organizer decides to honour it anyway.
      const forced = await h.core.payments.manualConfirm(
        (await h.core.payments.createPayment(order.id, { provider: 'bank', amount: money(1, 'EUR'), actor: admin, force: true })).id, { actor: admin, force: true });
      expect(forced).toMatchObject({ kind: 'order_paid', order: { status: 'paid', pendingSum: -1 } });
    });

    it('refuses to revive when the event does not accept late payments, unless forced', async () => {
      const { order, paymentId } = await expiredOrder(5, false);
      const result = await h.core.payments.confirmPayment(paymentId, { actor: provider });
      expect(result).toMatchObject({ kind: 'quota_exceeded', reason: expect.stringMatching(/late payments are not accepted/) });
      expect((await h.core.orders.getSummary(order.id)).status).toBe('expired');
    });

    it('revives it when forced even without quota', async () => {
      const { shop, order } = await expiredOrder(1);
      await h.order(shop);
      // Without force no payment may even start: it could never end in a paid order.
      expect(await errorCode(h.core.payments.createPayment(order.id, { provider: 'bank', actor: admin }))).toBe('ORDER_NOT_PAYABLE');
      const payment = await h.core.payments.createPayment(order.id, { provider: 'bank', actor: admin, force: true });
      const result = await h.core.payments.manualConfirm(payment.id, { actor: admin, force: true });
      expect(result).toMatchObject({ kind: 'order_paid', order: { status: 'paid' } });
    });
  });

  it('manualConfirm only confirms created or pending payments', async () => {
    const shop = await h.shop();
    const { paymentId } = await h.order(shop);
    await h.core.payments.failPayment(paymentId, { actor: provider });
    const before = await snapshotRows(h.ds);
    expect(await errorCode(h.core.payments.manualConfirm(paymentId, { actor: admin }))).toBe('PAYMENT_CONFIRM_NOT_ALLOWED');
    expect(await snapshotRows(h.ds)).toEqual(before);
    // the provider itself may still report success for a failed attempt: received money is never dropped
    expect((await h.core.payments.confirmPayment(paymentId, { actor: provider })).kind).toBe('order_paid');
  });

  it('refuses an unknown payment id with NOT_FOUND', async () => {
    expect(await errorCode(h.core.payments.confirmPayment('00000000-0000-4000-8000-000000000000', { actor: provider }))).toBe('NOT_FOUND');
    expect(await errorCode(h.core.payments.confirmPayment('not-a-uuid', { actor: provider }))).toBe('NOT_FOUND');
  });
});
