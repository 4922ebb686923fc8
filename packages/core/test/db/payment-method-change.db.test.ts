import { Order, OrderFee, OrderPayment, money } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import { createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

const buyer = { type: 'buyer' } as const;
const card = { type: 'provider', id: 'card' } as const;

/*
 * pretix's change_payment_provider: switching an open order to another method replaces the open
 * payment fee by the new method's fee on what is still owed, the total follows, and the new
 * attempt is for the new amount. Fees: product 10.00 EUR.
 *   fwd   — forward, 0.50 + 2 %:          on 10.00 → 0.70
 *   rev   — reverse, 0.30 + 3 %:          on 10.00 → (0.30 + 0.30) / 0.97 = 0.6186 → 0.62
 *   nofee — no fee.
 *   de    — no fee, only for buyers in DE.
 */
describe('changing the payment method of an open order', () => {
  let h: CoreHarness;
  const fwd = new ScriptedProvider({ identifier: 'fwd', common: { _feeAbs: 50, _feePercent: '2', _feeReverseCalc: false } });
  const rev = new ScriptedProvider({ identifier: 'rev', common: { _feeAbs: 30, _feePercent: '3', _feeReverseCalc: true } });
  const nofee = new ScriptedProvider({ identifier: 'nofee' });
  const de = new ScriptedProvider({ identifier: 'de', common: { _restrictedCountries: ['DE'] } });
  beforeAll(async () => { h = await createCoreHarness([fwd, rev, nofee, de]); });
  afterAll(async () => { await h.destroy(); });

  const order = (id: string) => h.ds.manager.findOneByOrFail(Order, { id });
  const liveFees = (orderId: string) => h.ds.manager.find(OrderFee, { where: { orderId, canceled: false } });

  it('forward → reverse → no fee → forward: exact fees, totals and new payment amounts', async () => {
    const shop = await h.shop();
    const placed = await h.order(shop, { provider: 'fwd' });
    expect(placed.order.total).toBe(1070);

    const toRev = await h.core.payments.changePaymentMethod(placed.order.id, { provider: 'rev', actor: buyer });
    expect(toRev).toMatchObject({ fee: 62, previousFee: 70, previousTotal: 1070, canceledPayments: [placed.paymentId] });
    expect(toRev.payment).toMatchObject({ provider: 'rev', amount: 1062, state: 'created', localId: 2 });
    expect((await order(placed.order.id)).total).toBe(1062);
    const [revFee] = await liveFees(placed.order.id);
    expect(revFee).toMatchObject({ feeType: 'payment', internalType: 'rev', value: 62 });
    expect(toRev.payment.feeId).toBe(revFee!.id);
    expect((await h.ds.manager.findOneByOrFail(OrderPayment, { id: placed.paymentId })).state).toBe('canceled');
    expect(fwd.calls).toContainEqual(expect.objectContaining({ method: 'cancelPayment', id: placed.paymentId }));

    const toNone = await h.core.payments.changePaymentMethod(placed.order.id, { provider: 'nofee', actor: buyer });
    expect(toNone).toMatchObject({ fee: 0, previousFee: 62, previousTotal: 1062 });
    expect(toNone.payment).toMatchObject({ provider: 'nofee', amount: 1000, feeId: null });
    expect((await order(placed.order.id)).total).toBe(1000);
    expect(await liveFees(placed.order.id)).toEqual([]);

    const back = await h.core.payments.changePaymentMethod(placed.order.id, { provider: 'fwd', actor: buyer });
    expect(back).toMatchObject({ fee: 70, previousFee: 0, previousTotal: 1000 });
    expect(back.payment.amount).toBe(1070);
    expect((await order(placed.order.id)).total).toBe(1070);
    expect((await h.core.orders.getSummary(placed.order.id)).pendingSum).toBe(1070);

    expect((await logActions(h.ds, placed.order.id)).filter((a) => a === 'kassa.order.payment.changed')).toHaveLength(3);
    expect((await outboxTopics(h.ds, placed.order.id)).filter((t) => t === 'payment.created')).toHaveLength(3);
    const [entry] = await h.ds.query(
      `SELECT data FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.payment.changed' ORDER BY id LIMIT 1`, [placed.order.id]);
    expect(entry.data).toMatchObject({ provider: 'rev', fee: 62, previousFee: 70, total: 1062, previousTotal: 1070, amount: 1062 });

    // Paying the new attempt pays the order at its new total.
    const paid = await h.core.payments.confirmPayment(back.payment.id, { actor: card });
    expect(paid.kind).toBe('order_paid');
  });

  it('quotes the base a method fee is computed on, without the open fee', async () => {
    const placed = await h.order(await h.shop(), { provider: 'fwd', count: 2 });
    expect(await h.core.payments.quotePaymentMethodChange(placed.order.id)).toEqual({ base: money(2000, 'EUR'), openFee: 90 });
  });

  it('a partially paid order: the fee is computed on what is still owed, and the paid part stays', async () => {
    const placed = await h.order(await h.shop(), { provider: 'fwd', count: 2 }); // 2000 + 0.50 + 2 % = 2090
    expect(placed.order.total).toBe(2090);
    const part = await h.core.payments.createPayment(placed.order.id, { provider: 'card', amount: money(1000, 'EUR'), actor: buyer });
    expect((await h.core.payments.confirmPayment(part.id, { actor: card })).kind).toBe('partially_paid');

    const change = await h.core.payments.changePaymentMethod(placed.order.id, { provider: 'rev', actor: buyer });
    // Owed 1090, of which 90 is the open fee: the reverse fee is computed on 1000 → 62.
    expect(change).toMatchObject({ fee: 62, previousFee: 90, previousTotal: 2090 });
    expect(change.payment.amount).toBe(1062);
    expect((await order(placed.order.id)).total).toBe(2062);
    expect(await h.core.orders.getSummary(placed.order.id)).toMatchObject({ pendingSum: 1062, paymentRefundSum: 1000 });
    expect((await h.core.payments.confirmPayment(change.payment.id, { actor: card })).kind).toBe('order_paid');
  });

  it('two switches at once (two tabs) leave one open attempt for exactly what is owed', async () => {
    const placed = await h.order(await h.shop(), { provider: 'fwd' });
    const results = await Promise.allSettled([
      h.core.payments.changePaymentMethod(placed.order.id, { provider: 'rev', actor: buyer }),
      h.core.payments.changePaymentMethod(placed.order.id, { provider: 'nofee', actor: buyer }),
    ]);
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    for (const r of results) if (r.status === 'rejected') expect(['STATE_CONFLICT', 'STATE_TRANSITION_NOT_ALLOWED']).toContain((r.reason as { code?: string }).code);
    const open = await h.ds.manager.find(OrderPayment, { where: [{ orderId: placed.order.id, state: 'created' }, { orderId: placed.order.id, state: 'pending' }] });
    expect(open).toHaveLength(1);
    const fees = await liveFees(placed.order.id);
    expect(fees.length).toBeLessThanOrEqual(1);
    const total = (await order(placed.order.id)).total;
    expect(total).toBe(1000 + (fees[0]?.value ?? 0));
    expect(open[0]!.amount).toBe(total);
    expect(open[0]!.feeId ?? null).toBe(fees[0]?.id ?? null);
  });

  it('refuses a paid order and writes nothing', async () => {
    const placed = await h.order(await h.shop(), { provider: 'fwd' });
    await h.core.payments.confirmPayment(placed.paymentId, { actor: card });
    const before = await snapshotRows(h.ds);
    expect(await errorCode(h.core.payments.changePaymentMethod(placed.order.id, { provider: 'rev', actor: buyer }))).toBe('ORDER_NOT_PAYABLE');
    expect(await snapshotRows(h.ds)).toEqual(before);
  });

  it('keeps a pending payment whose provider does not allow aborting, and changes nothing', async () => {
    const placed = await h.order(await h.shop(), { provider: 'bank' });
    await h.core.payments.pendPayment(placed.paymentId, { actor: { type: 'provider', id: 'bank' } });
    const before = await snapshotRows(h.ds);
    expect(await errorCode(h.core.payments.changePaymentMethod(placed.order.id, { provider: 'fwd', actor: buyer }))).toBe('PAYMENT_ABORT_NOT_ALLOWED');
    expect(await snapshotRows(h.ds)).toEqual(before);
  });

  it('a method restricted by country: allowed for a buyer in an allowed country, refused otherwise before anything is abandoned', async () => {
    const shop = await h.shop();
    const place = (country: string | null, provider = 'card') => h.core.orders.placeOrder({
      eventId: shop.event.id, email: 'buyer@example.org', positions: [{ productId: shop.product.id }], provider, country,
    });
    expect(await errorCode(place(null, 'de'))).toBe('PAYMENT_PROVIDER_NOT_ALLOWED');
    expect(await errorCode(place('AT', 'de'))).toBe('PAYMENT_PROVIDER_NOT_ALLOWED');
    expect(await errorCode(place('de', 'card'))).toBe('VALIDATION_FAILED');
    const inDe = await place('DE', 'de');
    expect(inDe.order.country).toBe('DE');

    const inAt = await place('AT');
    const before = await snapshotRows(h.ds);
    expect(await errorCode(h.core.payments.changePaymentMethod(inAt.order.id, { provider: 'de', actor: buyer }))).toBe('PAYMENT_PROVIDER_NOT_ALLOWED');
    expect(await snapshotRows(h.ds)).toEqual(before);
    const fromDe = await place('DE');
    await expect(h.core.payments.changePaymentMethod(fromDe.order.id, { provider: 'de', actor: buyer })).resolves.toMatchObject({ fee: 0 });
    // A country given at the switch never replaces the stored one…
    expect(await errorCode(h.core.payments.changePaymentMethod(inAt.order.id, { provider: 'de', actor: buyer, country: 'DE' }))).toBe('PAYMENT_PROVIDER_NOT_ALLOWED');
    // …but an order placed without one keeps the country given when it is first asked.
    const unknown = await place(null);
    expect(await errorCode(h.core.payments.changePaymentMethod(unknown.order.id, { provider: 'de', actor: buyer }))).toBe('PAYMENT_PROVIDER_NOT_ALLOWED');
    expect(await errorCode(h.core.payments.changePaymentMethod(unknown.order.id, { provider: 'de', actor: buyer, country: 'de' }))).toBe('VALIDATION_FAILED');
    await h.core.payments.changePaymentMethod(unknown.order.id, { provider: 'de', actor: buyer, country: 'DE' });
    expect((await order(unknown.order.id)).country).toBe('DE');
  });
});
