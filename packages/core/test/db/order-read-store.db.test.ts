import { OrderReadStore, money } from '@kassa/core/host';
import { admin, createCoreHarness, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;

/**
 * Core's reads of orders for the control panel, the API and the order page: every read is scoped
 * by organizer, so one organizer's ids answer nothing for another.
 */
describe('OrderReadStore', () => {
  let h: CoreHarness;
  let reads: OrderReadStore;
  beforeAll(async () => {
    h = await createCoreHarness();
    reads = new OrderReadStore(h.ds);
  });
  afterAll(async () => { await h.destroy(); });

  /** An order of 2 tickets, paid by card, with a refund of 5.00. */
  async function paidAndRefunded() {
    const shop = await h.shop({ price: 1000 });
    const { order } = await h.order(shop, { count: 2, provider: 'bank' });
    const payment = await h.core.payments.createPayment(order.id, { provider: 'card', amount: money(2000, 'EUR'), actor: admin });
    await h.core.payments.confirmPayment(payment.id, { actor: card });
    const { refund } = await h.core.refunds.createRefund(order.id, { paymentId: payment.id, amount: money(500, 'EUR'), source: 'admin', actor: admin });
    return { shop, order, payment, refund };
  }

  it('reads an order with its rows for its own organizer', async () => {
    const { shop, order, payment, refund } = await paidAndRefunded();
    const organizerId = shop.organizer.id;
    expect((await reads.order(organizerId, order.id))?.code).toBe(order.code);
    expect((await reads.ordersByCode(organizerId, order.code)).map((o) => o.id)).toEqual([order.id]);
    expect((await reads.payment(organizerId, payment.id))?.order.id).toBe(order.id);
    expect((await reads.refund(organizerId, refund.id))?.refund.amount).toBe(500);
    const parts = await reads.parts(organizerId, order.id);
    expect(parts.positions.map((p) => p.positionNo)).toEqual([1, 2]);
    // The bank payment placed with the order, then the card payment: oldest first.
    expect(parts.payments.map((p) => p.provider)).toEqual(['bank', 'card']);
    expect(parts.refunds.map((r) => r.id)).toEqual([refund.id]);
    expect((await reads.log(organizerId, order.id)).length).toBeGreaterThan(0);
    expect(await reads.productNames(organizerId, [shop.product.id])).toEqual(new Map([[shop.product.id, 'Ticket']]));
    expect((await reads.productsOfEvent(organizerId, shop.event.id)).map((p) => p.id)).toEqual([shop.product.id]);
    expect((await reads.event(organizerId, shop.event.id))?.id).toBe(shop.event.id);
  });

  it("answers nothing for another organizer's ids", async () => {
    const { shop, order, payment, refund } = await paidAndRefunded();
    const other = (await h.shop()).organizer.id;
    expect(await reads.order(other, order.id)).toBeNull();
    expect(await reads.ordersByCode(other, order.code)).toEqual([]);
    expect(await reads.payment(other, payment.id)).toBeNull();
    expect(await reads.refund(other, refund.id)).toBeNull();
    expect(await reads.parts(other, order.id)).toEqual({ positions: [], fees: [], payments: [], refunds: [] });
    expect(await reads.log(other, order.id)).toEqual([]);
    expect(await reads.productNames(other, [shop.product.id])).toEqual(new Map());
    expect(await reads.productsOfEvent(other, shop.event.id)).toEqual([]);
    expect(await reads.event(other, shop.event.id)).toBeNull();
  });

  it("counts the dashboard's orders per status and money received per currency, per organizer", async () => {
    const { shop } = await paidAndRefunded();
    await h.order(shop, { provider: 'bank' });
    const figures = await reads.dashboard(shop.organizer.id);
    // The refund leaves money owed, so the paid order is pending again; the second order is pending.
    expect(figures.byStatus).toEqual({ pending: 2 });
    // Received money counts confirmed (and refunded) payments: the refund does not lower it.
    expect(figures.revenue).toEqual([{ currency: 'EUR', paid: 2000 }]);
    expect(await reads.dashboard((await h.shop()).organizer.id)).toEqual({ byStatus: {}, revenue: [] });
  });

  it('finds an order placed with an idempotency key, only in its event', async () => {
    const shop = await h.shop();
    await h.core.orders.placeOrder({ eventId: shop.event.id, email: 'k@example.org', positions: [{ productId: shop.product.id }], provider: 'bank', idempotencyKey: 'key-123' });
    expect(await reads.placedWithKey(shop.event.id, 'key-123')).toBe(true);
    expect(await reads.placedWithKey(shop.event.id, 'key-124')).toBe(false);
    expect(await reads.placedWithKey((await h.shop()).event.id, 'key-123')).toBe(false);
  });
});
