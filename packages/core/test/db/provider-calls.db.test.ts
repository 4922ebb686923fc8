import { money } from '@kassa/core/host';
import { admin, createCoreHarness, type CoreHarness } from './core-harness';

/*
 * "No external call inside a database transaction": while the provider is being called, another
 * connection must be able to lock the order and all its payments and refunds at once (NOWAIT),
 * which fails if the service still holds any of those rows.
 */
describe('provider calls happen outside transactions', () => {
  let h: CoreHarness;
  const seen: string[] = [];
  beforeAll(async () => {
    h = await createCoreHarness();
    h.card.onCall = async (method, orderId) => {
      await h.ds.transaction(async (tx) => {
        await tx.query('SELECT 1 FROM kassa_order WHERE id = $1 FOR UPDATE NOWAIT', [orderId]);
        await tx.query('SELECT 1 FROM order_payment WHERE order_id = $1 FOR UPDATE NOWAIT', [orderId]);
        await tx.query('SELECT 1 FROM order_refund WHERE order_id = $1 FOR UPDATE NOWAIT', [orderId]);
      });
      seen.push(method);
    };
  });
  afterAll(async () => { await h.destroy(); });

  it('executePayment, executeRefund (via createRefund and cancelOrder) and cancelPayment', async () => {
    const shop = await h.shop({ price: 4000 });
    const a = await h.order(shop);
    await h.core.payments.executePayment(a.paymentId, {});
    await h.core.refunds.createRefund(a.order.id, { paymentId: a.paymentId, amount: money(1000, 'EUR'), source: 'admin', actor: admin });
    await h.core.orders.cancelOrder(a.order.id, { autoRefund: true, actor: admin });
    const b = await h.order(shop);
    await h.core.payments.cancelPayment(b.paymentId, admin);
    expect(seen).toEqual(['executePayment', 'executeRefund', 'executeRefund', 'cancelPayment']);
  });
});
