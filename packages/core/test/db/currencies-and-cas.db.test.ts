import { Order, money, withTransaction } from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { moveOrder } from '../../src/persistence/state-change';
import { admin, createCoreHarness, errorCode, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;

describe('zero- and three-decimal currencies end to end; compare-and-set writes', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  it('JPY: whole-yen fee, payment, partial refund and sums', async () => {
    h.card.common._feeAbs = 40;
    h.card.common._feePercent = '3.6';
    try {
      const shop = await h.shop({ currency: 'JPY', price: 5000 });
      const { order, paymentId } = await h.order(shop);
      expect(order.total).toBe(5228); // (5000 + 40) / 0.964 = 5228.21 → fee 228 yen
      expect((await h.core.payments.confirmPayment(paymentId, { actor: card })).kind).toBe('order_paid');
      await h.core.refunds.createRefund(order.id, { paymentId, amount: money(1228, 'JPY'), source: 'admin', actor: admin });
      // Money owed again: the refund set the paid order back to pending (pretix), so it is open, not "underpaid".
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ currency: 'JPY', status: 'pending', paymentRefundSum: 4000, pendingSum: 1228, isUnderpaid: false });
      expect(await errorCode(h.core.refunds.createRefund(order.id, { paymentId, amount: money(100, 'EUR'), source: 'admin', actor: admin })))
        .toBe('MONEY_CURRENCY_MISMATCH');
    } finally {
      h.card.common._feeAbs = 0;
      h.card.common._feePercent = '0';
    }
  });

  it('KWD: fils-exact fee, two payments, over-payment and its external refund', async () => {
    h.card.common._feePercent = '2.5';
    h.card.common._feeReverseCalc = false;
    try {
      const shop = await h.shop({ currency: 'KWD', price: 12_345 });
      const { order, paymentId } = await h.order(shop);
      expect(order.total).toBe(12_654); // 12.345 + 0.309 (0.308625 rounded half-up)
      const extra = await h.core.payments.createPayment(order.id, { provider: 'bank', amount: money(1, 'KWD'), actor: admin });
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      await h.core.payments.manualConfirm(extra.id, { actor: admin });
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'paid', paymentRefundSum: 12_655, pendingSum: -1, isOverpaid: true });
      const { refund } = await h.core.refunds.createExternalRefund(extra.id, { amount: money(1, 'KWD'), externalId: 'kwd-1' });
      expect(refund.state).toBe('done');
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ pendingSum: 0, isOverpaid: false });
    } finally {
      h.card.common._feePercent = '0';
      delete h.card.common._feeReverseCalc;
    }
  });

  it('a state write against a stale state fails with STATE_CONFLICT and writes nothing', async () => {
    const { order } = await h.order(await h.shop());
    const stale = await h.ds.manager.findOneByOrFail(Order, { id: order.id });
    await h.core.payments.confirmPayment((await h.ds.query('SELECT id FROM order_payment WHERE order_id = $1', [order.id]))[0].id, { actor: card });
    const before = await snapshotRows(h.ds);
    // `stale` still says pending; the row is paid now, so pending → expired must not apply
    expect(await errorCode(withTransaction(h.ds, (tx) => moveOrder(tx, stale, 'expire')))).toBe('STATE_CONFLICT');
    expect(await snapshotRows(h.ds)).toEqual(before);
  });
});
