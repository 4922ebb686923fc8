import { Order, OrderPayment, money } from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;
const eur = (amount: number) => money(amount, 'EUR');
const DAY = 86_400_000;

/**
 * What a refund does to the order (pretix's refund flows): a refund that leaves money owed on a
 * paid order sets it back to pending with a new deadline, unless the organizer cancels it; keeping
 * it paid is only allowed while the payments still cover it; a refund that leaves nothing owed
 * never reopens it. And a refund counts as refunded money from the moment it is created.
 */
describe('refunds and the order state', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  const order = (id: string) => h.ds.manager.findOneByOrFail(Order, { id });
  const payment = (id: string) => h.ds.manager.findOneByOrFail(OrderPayment, { id });

  /** A paid 100.00 order (one card payment); optionally a second confirmed payment of `extra` (overpaid). */
  async function paidOrder(opts: { extra?: number; event?: Record<string, unknown> } = {}) {
    const shop = await h.shop({ price: 10_000, event: { paymentTermDays: 7, ...opts.event } });
    const placed = await h.order(shop);
    // A second attempt started before the first one was confirmed: the buyer paid twice.
    const extra = opts.extra ? await h.core.payments.createPayment(placed.order.id, { provider: 'card', amount: eur(opts.extra), actor: admin }) : null;
    await h.core.payments.confirmPayment(placed.paymentId, { actor: card });
    if (extra) await h.core.payments.confirmPayment(extra.id, { actor: card });
    const extraId = extra?.id ?? null;
    expect((await order(placed.order.id)).status).toBe('paid');
    return { ...placed, extraId };
  }

  it('a refund that leaves money owed on a paid order sets it back to pending with a new payment deadline (the default)', async () => {
    const { order: o, paymentId } = await paidOrder();
    const result = await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(2500), source: 'admin', actor: admin });
    expect(result).toMatchObject({ outcome: { kind: 'done' }, orderStatus: 'pending' });
    const after = await order(o.id);
    expect(after.status).toBe('pending');
    expect(after.expires.getTime()).toBe(h.clock.now().getTime() + 7 * DAY);
    expect(await h.core.orders.getSummary(o.id)).toMatchObject({ status: 'pending', pendingSum: 2500, isUnderpaid: false });
    expect(await logActions(h.ds, o.id)).toEqual(expect.arrayContaining(['kassa.order.refund.done', 'kassa.order.unpaid']));
    expect(await outboxTopics(h.ds, o.id)).toContain('order.unpaid');
    // The new deadline is a real one: the buyer can pay the rest, and that pays the order again.
    const rest = await h.core.payments.createPayment(o.id, { provider: 'card', actor: admin });
    expect(rest.amount).toBe(2500);
    expect((await h.core.payments.confirmPayment(rest.id, { actor: card })).kind).toBe('order_paid');
  });

  it('the new deadline never lies beyond the last date of payments', async () => {
    const last = new Date(h.clock.now().getTime() + 2 * DAY);
    const { order: o, paymentId } = await paidOrder({ event: { paymentTermLast: last } });
    await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(100), source: 'admin', actor: admin });
    expect((await order(o.id)).expires.toISOString()).toBe(last.toISOString());
  });

  it('keep_paid is refused before anything is written when money would be owed', async () => {
    const { order: o, paymentId } = await paidOrder();
    const before = await snapshotRows(h.ds);
    const calls = h.card.calls.length;
    expect(await errorCode(h.core.refunds.createRefund(o.id, { paymentId, amount: eur(2500), source: 'admin', orderAction: 'keep_paid', actor: admin })))
      .toBe('REFUND_ORDER_ACTION_INVALID');
    expect(await snapshotRows(h.ds)).toEqual(before);
    expect(h.card.calls.length).toBe(calls); // no money moved
  });

  it('keep_paid keeps an overpaid order paid when the refund only returns the overpayment', async () => {
    const { order: o, extraId } = await paidOrder({ extra: 3000 });
    const result = await h.core.refunds.createRefund(o.id, { paymentId: extraId!, amount: eur(3000), source: 'admin', orderAction: 'keep_paid', actor: admin });
    expect(result.orderStatus).toBe('paid');
    expect(await h.core.orders.getSummary(o.id)).toMatchObject({ status: 'paid', pendingSum: 0, isOverpaid: false });
  });

  it('a refund that leaves nothing owed never reopens the order, even with the default choice', async () => {
    const { order: o, extraId } = await paidOrder({ extra: 3000 });
    const expires = (await order(o.id)).expires;
    h.clock.advance({ days: 1 });
    await h.core.refunds.createRefund(o.id, { paymentId: extraId!, amount: eur(3000), source: 'admin', actor: admin });
    const after = await order(o.id);
    expect(after.status).toBe('paid');
    expect(after.expires).toEqual(expires);
    expect(await logActions(h.ds, o.id)).not.toContain('kassa.order.unpaid');
  });

  it('cancel: the order is canceled once the refund is under way', async () => {
    const { order: o, paymentId } = await paidOrder();
    const result = await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(10_000), source: 'admin', orderAction: 'cancel', actor: admin });
    expect(result).toMatchObject({ refund: { state: 'done' }, orderStatus: 'canceled' });
    expect(await h.core.orders.getSummary(o.id)).toMatchObject({ status: 'canceled', paymentRefundSum: 0, isOverpaid: false });
    expect(await logActions(h.ds, o.id)).toEqual(expect.arrayContaining(['kassa.order.refund.done', 'kassa.order.canceled']));
    expect(await logActions(h.ds, o.id)).not.toContain('kassa.order.unpaid');
  });

  it('an open manual refund that leaves money owed sets the order back to pending at once', async () => {
    const { order: o, paymentId } = await paidOrder();
    const { refund, outcome, orderStatus } = await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(4000), source: 'admin', provider: 'manual', actor: admin });
    expect(outcome).toBeUndefined();
    expect(refund.state).toBe('created');
    expect(orderStatus).toBe('pending');
    expect((await order(o.id)).status).toBe('pending');
  });

  it('a refund the provider refuses changes nothing for the order', async () => {
    const { order: o, paymentId } = await paidOrder();
    h.card.refundOutcomes.push({ kind: 'failed', message: 'insufficient balance' });
    const result = await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(10_000), source: 'admin', orderAction: 'cancel', actor: admin });
    expect(result.refund.state).toBe('failed');
    expect(result.orderStatus).toBeUndefined();
    expect((await order(o.id)).status).toBe('paid');
    expect((await payment(paymentId)).state).toBe('confirmed');
  });

  it('a refund on a pending order leaves it pending (an expired one is never revived without its quota check)', async () => {
    const shop = await h.shop({ price: 10_000 });
    const { order: o } = await h.order(shop, { provider: 'bank' });
    const part = await h.core.payments.createPayment(o.id, { provider: 'card', amount: eur(4000), actor: admin });
    await h.core.payments.confirmPayment(part.id, { actor: card });
    h.clock.advance({ days: 15 });
    await h.core.orders.expireOrders();
    expect((await order(o.id)).status).toBe('expired');
    const r = await h.core.refunds.createRefund(o.id, { paymentId: part.id, amount: eur(4000), source: 'admin', actor: admin });
    expect(r.orderStatus).toBe('expired');
  });

  it('a payment counts as refunded once created, in-transit and done refunds together reach its amount', async () => {
    const { order: o, paymentId } = await paidOrder();
    // 30.00 done, 30.00 in transit, 40.00 created by hand: together the whole payment.
    await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(3000), source: 'admin', actor: admin });
    h.card.refundOutcomes.push({ kind: 'transit' });
    await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(3000), source: 'admin', actor: admin });
    expect((await payment(paymentId)).state).toBe('confirmed');
    const manual = await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(4000), source: 'admin', provider: 'manual', actor: admin });
    expect((await payment(paymentId)).state).toBe('refunded');
    expect(await h.core.orders.getSummary(o.id)).toMatchObject({ paymentRefundSum: 0, hasPendingRefund: true });
    // The refund proposal has nothing left to offer on it.
    expect((await h.core.refunds.proposeRefunds(o.id, eur(100))).proposals).toEqual([]);
    // Withdrawing the open manual refund makes the payment refundable again.
    await h.core.refunds.markRefundCanceled(manual.refund.id, admin);
    expect((await payment(paymentId)).state).toBe('confirmed');
    expect((await h.core.refunds.proposeRefunds(o.id, eur(4000))).proposals.map((p) => p.amount.amount)).toEqual([4000]);
    expect(await outboxTopics(h.ds, o.id)).toEqual(expect.arrayContaining(['payment.refunded', 'payment.unrefunded']));
  });

  it('refuses an unknown order action, naming the field', async () => {
    const { order: o, paymentId } = await paidOrder();
    const before = await snapshotRows(h.ds);
    const err = await h.core.refunds.createRefund(o.id, { paymentId, amount: eur(100), source: 'admin', orderAction: 'refund_all' as never, actor: admin })
      .then(() => null, (e: { code: string; params: Record<string, unknown> }) => e);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', params: { field: 'orderAction' } });
    expect(await snapshotRows(h.ds)).toEqual(before);
  });
});
