import { Order, OrderFee, OrderPayment, OrderPosition, OrderRefund, money } from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;
const eur = (amount: number) => money(amount, 'EUR');

describe('orders: expire, extend, cancel, shred, summary and search', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  const load = (id: string) => h.ds.manager.findOneByOrFail(Order, { id });

  describe('expireOrders', () => {
    it('expires pending orders past their deadline, once, with a log entry and an event each', async () => {
      const shop = await h.shop();
      const due = await h.order(shop);
      const paid = await h.order(shop);
      await h.core.payments.confirmPayment(paid.paymentId, { actor: card });
      h.clock.advance({ days: 10 });
      const later = await h.order(shop); // expires 14 days from now
      h.clock.advance({ days: 5 });
      expect(await h.core.orders.expireOrders()).toBeGreaterThanOrEqual(1);
      expect((await load(due.order.id)).status).toBe('expired');
      expect((await load(paid.order.id)).status).toBe('paid');
      expect((await load(later.order.id)).status).toBe('pending');
      expect(await h.core.orders.expireOrders()).toBe(0);
      expect((await logActions(h.ds, due.order.id)).filter((a) => a === 'kassa.order.expired')).toHaveLength(1);
      expect(await outboxTopics(h.ds, due.order.id)).toEqual(['order.placed', 'order.expired']);
    });
  });

  describe('extendOrder', () => {
    it('moves the deadline of a pending order', async () => {
      const { order } = await h.order(await h.shop());
      const to = new Date(h.clock.now().getTime() + 30 * 86_400_000);
      await h.core.orders.extendOrder(order.id, to, { actor: admin });
      expect(await load(order.id)).toMatchObject({ status: 'pending', expires: to });
      expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'order.expiry_changed']);
    });

    it('revives an expired order only while quota allows, unless forced', async () => {
      const shop = await h.shop({ quotaSize: 1 });
      const { order } = await h.order(shop);
      h.clock.advance({ days: 15 });
      await h.core.orders.expireOrders();
      await h.order(shop); // the seat is gone
      const to = new Date(h.clock.now().getTime() + 86_400_000);
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.orders.extendOrder(order.id, to, { actor: admin }))).toBe('ORDER_QUOTA_EXCEEDED');
      expect(await snapshotRows(h.ds)).toEqual(before);
      await h.core.orders.extendOrder(order.id, to, { actor: admin, force: true });
      expect((await load(order.id)).status).toBe('pending');
    });

    it('refuses a past deadline and a paid order', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      expect(await errorCode(h.core.orders.extendOrder(order.id, new Date(h.clock.now().getTime() - 1), { actor: admin }))).toBe('ORDER_EXPIRY_INVALID');
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.orders.extendOrder(order.id, new Date(h.clock.now().getTime() + 1000), { actor: admin })))
        .toBe('STATE_TRANSITION_NOT_ALLOWED');
      expect(await snapshotRows(h.ds)).toEqual(before);
    });
  });

  describe('cancelOrder', () => {
    it('cancels open payments through their provider, then the order; its seats are free again', async () => {
      const shop = await h.shop({ quotaSize: 1 });
      const { order, paymentId } = await h.order(shop);
      const result = await h.core.orders.cancelOrder(order.id, { actor: admin });
      expect(result.order).toMatchObject({ status: 'canceled', cancellationDate: h.clock.now() });
      expect((await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId })).state).toBe('canceled');
      expect(h.card.calls).toContainEqual(expect.objectContaining({ method: 'cancelPayment', id: paymentId }));
      expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.canceled', 'order.canceled']);
      await expect(h.order(shop)).resolves.toBeDefined();
      expect(await errorCode(h.core.orders.cancelOrder(order.id, { actor: admin }))).toBe('STATE_TRANSITION_NOT_ALLOWED');
    });

    it('records a provider that refuses to cancel a pending payment, and still cancels the order', async () => {
      const { order, paymentId } = await h.order(await h.shop(), { provider: 'bank' });
      await h.core.payments.pendPayment(paymentId, { actor: admin });
      const result = await h.core.orders.cancelOrder(order.id, { actor: admin });
      expect(result.paymentCancelFailures).toEqual([{ paymentId, error: expect.stringMatching(/does not allow aborting/) }]);
      expect(result.order.status).toBe('canceled');
    });

    it('with a cancellation fee keeps a paid order paid for the fee, and auto-refunds the rest', async () => {
      const { order, paymentId } = await h.order(await h.shop({ price: 5000 }), { count: 2 });
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      const result = await h.core.orders.cancelOrder(order.id, { cancellationFee: eur(1500), autoRefund: true, actor: admin });
      expect(result.order).toMatchObject({ status: 'paid', total: 1500 });
      expect(result.refunds).toEqual([expect.objectContaining({ outcome: expect.objectContaining({ kind: 'done' }), refund: expect.objectContaining({ amount: 8500, state: 'done' }) })]);
      expect(result.summary).toMatchObject({ status: 'paid', pendingSum: 0, isOverpaid: false });
      expect((await h.ds.manager.findBy(OrderPosition, { orderId: order.id })).every((p) => p.canceled)).toBe(true);
      const fees = await h.ds.manager.findBy(OrderFee, { orderId: order.id, canceled: false });
      expect(fees).toEqual([expect.objectContaining({ feeType: 'cancellation', value: 1500 })]);
    });

    it('with a cancellation fee not yet covered, the order stays pending with a new deadline', async () => {
      const { order } = await h.order(await h.shop({ price: 5000 }), { provider: 'bank' });
      const result = await h.core.orders.cancelOrder(order.id, { cancellationFee: eur(1000), actor: admin });
      expect(result.order).toMatchObject({ status: 'pending', total: 1000 });
      expect(result.order.expires.getTime()).toBe(h.clock.now().getTime() + 14 * 86_400_000);
      const p = await h.core.payments.createPayment(order.id, { provider: 'card', actor: admin });
      expect(p.amount).toBe(1000);
      expect((await h.core.payments.confirmPayment(p.id, { actor: card })).kind).toBe('order_paid');
    });

    it('auto-refunds a fully canceled paid order, logging what no provider can refund', async () => {
      const { order, paymentId } = await h.order(await h.shop({ price: 3000 }), { provider: 'bank' });
      await h.core.payments.manualConfirm(paymentId, { actor: admin }); // bank: no automatic refunds
      const result = await h.core.orders.cancelOrder(order.id, { autoRefund: true, actor: admin });
      expect(result).toMatchObject({ refunds: [], refundRequested: 3000, summary: { status: 'canceled', isOverpaid: true } });
      expect(await logActions(h.ds, order.id)).toContain('kassa.order.refund.requested');
    });

    it('refuses a fee above the total, a negative fee and a fee in another currency; nothing written', async () => {
      const { order } = await h.order(await h.shop({ price: 5000 }));
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.orders.cancelOrder(order.id, { cancellationFee: eur(5001), actor: admin }))).toBe('ORDER_CANCELLATION_FEE_TOO_HIGH');
      expect(await errorCode(h.core.orders.cancelOrder(order.id, { cancellationFee: eur(-1), actor: admin }))).toBe('MONEY_NEGATIVE');
      expect(await errorCode(h.core.orders.cancelOrder(order.id, { cancellationFee: { amount: 1.5, currency: 'EUR' }, actor: admin }))).toBe('MONEY_NOT_SAFE_INTEGER');
      expect(await errorCode(h.core.orders.cancelOrder(order.id, { cancellationFee: money(100, 'USD'), actor: admin }))).toBe('MONEY_CURRENCY_MISMATCH');
      expect(await snapshotRows(h.ds)).toEqual(before);
    });
  });

  it('shredOrder removes personal data and keeps only what providers call non-personal', async () => {
    const { order, paymentId } = await h.order(await h.shop());
    await h.core.payments.executePayment(paymentId, {}); // info: reference + cardholder
    const { refund } = await h.core.refunds.createExternalRefund(paymentId, { amount: eur(100), externalId: 're_shred', info: { reference: 're_shred', iban: 'DE00 1234' } });
    await h.core.orders.shredOrder(order.id, admin);
    const after = await load(order.id);
    expect(after).toMatchObject({ email: null, shreddedAt: h.clock.now() });
    expect((await h.ds.manager.findBy(OrderPosition, { orderId: order.id })).map((p) => p.attendeeName)).toEqual([null]);
    expect((await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId })).info).toEqual({ reference: `ref-${paymentId}` });
    expect((await h.ds.manager.findOneByOrFail(OrderRefund, { id: refund.id })).info).toEqual({ reference: 're_shred' });
    expect(await logActions(h.ds, order.id)).toContain('kassa.order.shredded');
  });

  it('search filters by status, provider, flags and text, with the same sums as getSummary', async () => {
    const shop = await h.shop();
    const paid = await h.order(shop);
    await h.core.payments.confirmPayment(paid.paymentId, { actor: card });
    const over = await h.order(shop, { provider: 'bank' });
    const extra = await h.core.payments.createPayment(over.order.id, { provider: 'card', actor: admin });
    await h.core.payments.manualConfirm(over.paymentId, { actor: admin });
    await h.core.payments.confirmPayment(extra.id, { actor: card });
    const ext = await h.order(shop);
    await h.core.payments.confirmPayment(ext.paymentId, { actor: card });
    await h.core.refunds.createExternalRefund(ext.paymentId, { externalId: 're_search' });
    const open = await h.order(shop, { provider: 'bank' });

    const ids = async (q: Partial<Parameters<typeof h.core.orders.search>[0]>) =>
      (await h.core.orders.search({ organizerId: shop.organizer.id, ...q })).items.map((i) => i.orderId).sort();
    const sorted = (...xs: string[]) => xs.sort();
    expect(await ids({})).toEqual(sorted(paid.order.id, over.order.id, ext.order.id, open.order.id));
    expect(await ids({ status: 'pending' })).toEqual([open.order.id]);
    expect(await ids({ provider: 'bank' })).toEqual(sorted(over.order.id, open.order.id));
    expect(await ids({ overpaid: true })).toEqual([over.order.id]);
    expect(await ids({ externalRefund: true })).toEqual([ext.order.id]);
    expect(await ids({ overpaid: false, externalRefund: false, status: 'paid' })).toEqual([paid.order.id]);
    expect(await ids({ q: open.order.code.toLowerCase() })).toEqual([open.order.id]);
    expect(await ids({ q: '%' })).toEqual([]);
    const page = await h.core.orders.search({ organizerId: shop.organizer.id, page: 2, pageSize: 3 });
    expect(page).toMatchObject({ total: 4, page: 2, pageSize: 3 });
    expect(page.items).toHaveLength(1);
    expect(await h.core.orders.search({ organizerId: shop.organizer.id, page: 9, pageSize: 3 })).toMatchObject({ items: [], total: 4 });
    const listed = (await h.core.orders.search({ organizerId: shop.organizer.id })).items.find((i) => i.orderId === over.order.id);
    const { email: _e, eventId: _v, expires: _x, createdAt: _c, ...sums } = listed as NonNullable<typeof listed>;
    expect(sums).toEqual(await h.core.orders.getSummary(over.order.id));
    expect(sums).toMatchObject({ paymentRefundSum: 2000, pendingSum: -1000, isOverpaid: true });
    expect(await errorCode(h.core.orders.search({ organizerId: shop.organizer.id, pageSize: 0 }))).toBe('VALIDATION_FAILED');
  });
});
