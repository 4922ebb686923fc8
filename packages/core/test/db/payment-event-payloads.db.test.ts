import { admin, createCoreHarness, type CoreHarness } from './core-harness';

/*
 * What core's events tell the email handlers. The decisions that depend on the moment of the
 * change (was the order still waiting for money, was the attempt already abandoned, what is owed
 * back after a cancellation) are taken here, with the change, and travel in the payload.
 */
const card = { type: 'provider', id: 'card' } as const;

describe('event payloads the emails depend on', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  const events = async (orderId: string, topic: string): Promise<Record<string, unknown>[]> =>
    (await h.ds.query(`SELECT payload FROM outbox_event WHERE order_id = $1 AND topic = $2 ORDER BY id`, [orderId, topic]) as { payload: Record<string, unknown> }[]).map((r) => r.payload);
  const actions = async (orderId: string, action: string): Promise<number> =>
    Number((await h.ds.query(`SELECT count(*) n FROM log_entry WHERE order_id = $1 AND action = $2`, [orderId, action]))[0].n);

  it('payment.action_required says whether the attempt was started off-session', async () => {
    const shop = await h.shop();
    const a = await h.order(shop);
    h.card.paymentOutcomes.push({ kind: 'requires_action', redirectUrl: 'https://acs.example/3ds' });
    await h.core.payments.executePayment(a.paymentId, {});
    expect(await events(a.order.id, 'payment.action_required')).toEqual([expect.objectContaining({ paymentId: a.paymentId, offSession: false, redirectUrl: 'https://acs.example/3ds' })]);
    const b = await h.order(shop);
    h.card.paymentOutcomes.push({ kind: 'requires_action', redirectUrl: 'https://acs.example/3ds' });
    await h.core.payments.executePayment(b.paymentId, {}, { offSession: true });
    expect(await events(b.order.id, 'payment.action_required')).toEqual([expect.objectContaining({ offSession: true })]);
  });

  it('payment.failed tells the buyer only while the order is pending and the attempt was not abandoned', async () => {
    const shop = await h.shop();
    const open = await h.order(shop);
    await h.core.payments.failPayment(open.paymentId, { actor: card, message: 'declined' });
    expect(await events(open.order.id, 'payment.failed')).toEqual([expect.objectContaining({ notifyBuyer: true, message: 'declined' })]);

    const paid = await h.order(shop);
    const spare = await h.core.payments.createPayment(paid.order.id, { provider: 'card', actor: admin });
    await h.core.payments.confirmPayment(paid.paymentId, { actor: card });
    await h.core.payments.failPayment(spare.id, { actor: card });
    expect(await events(paid.order.id, 'payment.failed')).toEqual([expect.objectContaining({ paymentId: spare.id, notifyBuyer: false })]);

    const canceled = await h.order(shop);
    await h.core.orders.cancelOrder(canceled.order.id, { actor: admin });
    await h.core.payments.failPayment(canceled.paymentId, { actor: card });
    expect(await events(canceled.order.id, 'payment.failed')).toEqual([expect.objectContaining({ notifyBuyer: false })]);
  });

  it('order.canceled carries what is owed back, whether it is refunded automatically, and the cancellation fee', async () => {
    const shop = await h.shop({ price: 4000 });
    const unpaid = await h.order(shop);
    await h.core.orders.cancelOrder(unpaid.order.id, { actor: admin });
    expect(await events(unpaid.order.id, 'order.canceled')).toEqual([expect.objectContaining({ refundAmount: 0, autoRefund: false, cancellationFee: 0, currency: 'EUR' })]);

    const paid = await h.order(shop);
    await h.core.payments.confirmPayment(paid.paymentId, { actor: card });
    await h.core.orders.cancelOrder(paid.order.id, { actor: admin, autoRefund: true, cancellationFee: { amount: 500, currency: 'EUR' } });
    expect(await events(paid.order.id, 'order.canceled')).toEqual([expect.objectContaining({ refundAmount: 3500, autoRefund: true, cancellationFee: 500, to: 'paid', notifyBuyer: true })]);
  });

  it('an external refund processed as "cancel" cancels the order without the buyer email (pretix\'s mark_order_refunded)', async () => {
    const shop = await h.shop({ price: 4000 });
    const { order, paymentId } = await h.order(shop);
    await h.core.payments.confirmPayment(paymentId, { actor: card });
    const refund = await h.core.refunds.createExternalRefund(paymentId, { amount: { amount: 4000, currency: 'EUR' }, actor: card });
    await h.core.refunds.processExternalRefund(refund.refund.id, { action: 'cancel', actor: admin });
    expect(await events(order.id, 'order.canceled')).toEqual([expect.objectContaining({ to: 'canceled', notifyBuyer: false })]);
  });

  it('payment.on_closed_order: money confirmed for a canceled order, or for an expired one that stays expired; not for a paid one', async () => {
    const shop = await h.shop({ price: 3000 });
    const canceled = await h.order(shop);
    await h.core.orders.cancelOrder(canceled.order.id, { actor: admin });
    await h.core.payments.confirmPayment(canceled.paymentId, { actor: card });
    expect(await events(canceled.order.id, 'payment.on_closed_order')).toEqual([
      expect.objectContaining({ paymentId: canceled.paymentId, amount: 3000, currency: 'EUR', orderStatus: 'canceled', reason: null }),
    ]);
    expect(await actions(canceled.order.id, 'kassa.order.payment.on_closed_order')).toBe(1);

    const expired = await h.order(shop);
    const half = await h.core.payments.createPayment(expired.order.id, { provider: 'card', amount: { amount: 1000, currency: 'EUR' }, actor: admin });
    await h.ds.query(`UPDATE kassa_order SET expires = '2000-01-01' WHERE id = $1`, [expired.order.id]);
    await h.core.orders.expireOrders(h.clock.now());
    await h.core.payments.confirmPayment(half.id, { actor: card });
    expect(await events(expired.order.id, 'payment.on_closed_order')).toEqual([expect.objectContaining({ amount: 1000, orderStatus: 'expired' })]);

    const overpaid = await h.order(shop);
    const second = await h.core.payments.createPayment(overpaid.order.id, { provider: 'card', actor: admin });
    await h.core.payments.confirmPayment(overpaid.paymentId, { actor: card });
    await h.core.payments.confirmPayment(second.id, { actor: card });
    expect(await events(overpaid.order.id, 'payment.on_closed_order')).toEqual([]);
    expect(await events(overpaid.order.id, 'order.overpaid')).toEqual([expect.objectContaining({ owedBack: 3000, status: 'paid' })]);
  });
});
