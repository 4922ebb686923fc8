import { MAX_ENTERED_AMOUNT, Order, OrderRefund, assertEnteredAmount } from '@kassa/core/host';
import { createProduct, snapshotRows } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, type CoreHarness } from './core-harness';

describe('money guards', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  describe('action keys (one-time keys of control-panel forms)', () => {
    it('lets exactly one of 20 concurrent claims of a key through', async () => {
      const shop = await h.shop();
      const key = await h.core.actionKeys.issue({ organizerId: shop.organizer.id });
      const claims = await Promise.allSettled(Array.from({ length: 20 }, () => h.core.actionKeys.claim(key, { organizerId: shop.organizer.id })));
      expect(claims.filter((c) => c.status === 'fulfilled')).toHaveLength(1);
      const refused = claims.filter((c): c is PromiseRejectedResult => c.status === 'rejected');
      expect(refused.map((r) => r.reason.code)).toEqual(Array(19).fill('ACTION_KEY_INVALID'));
    });

    it("refuses another organizer's key, another order's key, an unknown, malformed or expired key", async () => {
      const shop = await h.shop();
      const other = await h.shop();
      const { order } = await h.order(shop);
      const { order: second } = await h.order(shop);
      const key = await h.core.actionKeys.issue({ organizerId: shop.organizer.id, orderId: order.id });
      expect(await errorCode(h.core.actionKeys.claim(key, { organizerId: other.organizer.id }))).toBe('ACTION_KEY_INVALID');
      expect(await errorCode(h.core.actionKeys.claim(key, { organizerId: shop.organizer.id, orderId: second.id }))).toBe('ACTION_KEY_INVALID');
      expect(await errorCode(h.core.actionKeys.claim('00000000-0000-4000-8000-000000000000', { organizerId: shop.organizer.id }))).toBe('ACTION_KEY_INVALID');
      expect(await errorCode(h.core.actionKeys.claim("x' OR 1=1 --", { organizerId: shop.organizer.id }))).toBe('ACTION_KEY_INVALID');
      expect(await errorCode(h.core.actionKeys.claim(undefined, { organizerId: shop.organizer.id }))).toBe('ACTION_KEY_INVALID');
      // Still unused after all those refusals: the right organizer and order claim it.
      await h.core.actionKeys.claim(key, { organizerId: shop.organizer.id, orderId: order.id });
      const old = await h.core.actionKeys.issue({ organizerId: shop.organizer.id });
      h.clock.advance({ hours: 13 });
      expect(await errorCode(h.core.actionKeys.claim(old, { organizerId: shop.organizer.id }))).toBe('ACTION_KEY_INVALID');
    });

    it('release() gives a claimed key back once (a refused action); a used key stays used', async () => {
      const shop = await h.shop();
      const scope = { organizerId: shop.organizer.id };
      const key = await h.core.actionKeys.issue(scope);
      await h.core.actionKeys.claim(key, scope);
      expect(await errorCode(h.core.actionKeys.claim(key, scope))).toBe('ACTION_KEY_INVALID');
      await h.core.actionKeys.release(key);
      expect(await h.core.actionKeys.claim(key, scope)).toBe(key);
      expect(await errorCode(h.core.actionKeys.claim(key, scope))).toBe('ACTION_KEY_INVALID');
    });
  });

  describe('stale refund forms (last known refund)', () => {
    it('refuses a refund built before another refund, writing nothing; the current basis passes', async () => {
      const shop = await h.shop({ price: 5000 });
      const { order, paymentId } = await h.order(shop, { provider: 'card' });
      await h.core.payments.confirmPayment(paymentId, { actor: admin });
      const amount = { amount: 1000, currency: 'EUR' as const };
      const first = await h.core.refunds.createRefund(order.id, { paymentId, amount, source: 'admin', actor: admin, expectLastRefundId: null });
      const before = await snapshotRows(h.ds);
      // A second form, loaded before the first refund, still says "no refunds".
      expect(await errorCode(h.core.refunds.createRefund(order.id, { paymentId, amount, source: 'admin', actor: admin, expectLastRefundId: null }))).toBe('REFUND_STALE_FORM');
      expect(await snapshotRows(h.ds)).toEqual(before);
      expect(h.card.calls.filter((c) => c.method === 'executeRefund' && c.amount === 1000)).toHaveLength(1);
      const second = await h.core.refunds.createRefund(order.id, { paymentId, amount, source: 'admin', actor: admin, expectLastRefundId: first.refund.id });
      expect(second.refund.state).toBe('done');
    });

    it('two forms built from the same state, submitted at once: one refunds, the other is stale', async () => {
      const shop = await h.shop({ price: 5000 });
      const { order, paymentId } = await h.order(shop, { provider: 'card' });
      await h.core.payments.confirmPayment(paymentId, { actor: admin });
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => h.core.refunds.createRefund(order.id, {
        paymentId, amount: { amount: 500, currency: 'EUR' }, source: 'admin', actor: admin, expectLastRefundId: null,
      })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(4).fill('REFUND_STALE_FORM'));
      expect(await h.ds.manager.countBy(OrderRefund, { orderId: order.id })).toBe(1);
    });
  });

  describe('parallel manual confirmations', () => {
    it('20 concurrent manual confirmations: one confirms, 19 answer already_confirmed, none is refused', async () => {
      const shop = await h.shop();
      const { order, paymentId } = await h.order(shop, { provider: 'bank' });
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => h.core.payments.manualConfirm(paymentId, { actor: admin })));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const kinds = results.map((r) => (r as PromiseFulfilledResult<{ kind: string }>).value.kind);
      expect(kinds.filter((k) => k === 'order_paid')).toHaveLength(1);
      expect(kinds.filter((k) => k === 'already_confirmed')).toHaveLength(19);
      expect((await h.ds.manager.findOneByOrFail(Order, { id: order.id })).status).toBe('paid');
    });

    it('still refuses confirming a failed or refunded payment by hand', async () => {
      const shop = await h.shop();
      const { paymentId } = await h.order(shop, { provider: 'bank' });
      await h.core.payments.failPayment(paymentId, { actor: admin });
      expect(await errorCode(h.core.payments.manualConfirm(paymentId, { actor: admin }))).toBe('PAYMENT_CONFIRM_NOT_ALLOWED');
    });
  });

  describe('money limits', () => {
    it('caps an entered amount at 13 digits, naming the field', () => {
      expect(() => assertEnteredAmount(MAX_ENTERED_AMOUNT, 'price')).not.toThrow();
      expect(() => assertEnteredAmount(MAX_ENTERED_AMOUNT + 1, 'price')).toThrow(expect.objectContaining({ code: 'MONEY_AMOUNT_TOO_LARGE', params: expect.objectContaining({ field: 'price' }) }));
    });

    it('refuses an order whose positions add up past the safe range, writing nothing', async () => {
      const shop = await h.shop({ price: 4_503_599_627_370_496 }); // 2^52: two of them are 2^53, one past the safe range
      const before = await snapshotRows(h.ds);
      const placing = h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: [{ productId: shop.product.id }, { productId: shop.product.id }], provider: 'bank' });
      await expect(placing).rejects.toMatchObject({ code: 'ORDER_TOTAL_TOO_LARGE', params: expect.objectContaining({ field: 'positions' }) });
      expect(await snapshotRows(h.ds)).toEqual(before);
    });

    it('refuses an order whose payment fee pushes the total past the safe range, writing nothing (it used to commit a total no reader accepts)', async () => {
      h.bank.common._feeAbs = 500;
      try {
        const shop = await h.shop({ price: Number.MAX_SAFE_INTEGER - 100 });
        const before = await snapshotRows(h.ds);
        const placing = h.core.orders.placeOrder({ eventId: shop.event.id, email: null, positions: [{ productId: shop.product.id }], provider: 'bank' });
        await expect(placing).rejects.toMatchObject({ code: 'ORDER_TOTAL_TOO_LARGE' });
        expect(await snapshotRows(h.ds)).toEqual(before);
      } finally {
        h.bank.common._feeAbs = 0;
      }
    });

    it('the database refuses any money column past the safe range, whoever writes it', async () => {
      const shop = await h.shop();
      await expect(createProduct(h.ds, shop.event.id, { price: 9_007_199_254_740_992 as number })).rejects.toThrow();
      await expect(h.ds.query('UPDATE product SET price = 9007199254740992 WHERE id = $1', [shop.product.id])).rejects.toThrow(/product_price_exact/);
      const { order } = await h.order(shop);
      await expect(h.ds.query('UPDATE kassa_order SET total = 9007199254740992 WHERE id = $1', [order.id])).rejects.toThrow(/kassa_order_total_exact/);
    });
  });
});
