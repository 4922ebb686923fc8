import { randomUUID } from 'node:crypto';
import { Order, OrderPayment, OrderPosition, money, type OrderChangeOperation } from '@kassa/core/host';
import { createProduct, createQuota, ScriptedProvider, snapshotRows, type ShopFixture } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;

/*
 * pretix's order change: cancel a position, change its price or product, add a position, within
 * quota; totals, the open payment fee and the paid state follow; each change is logged and emits
 * 'order.changed'. The product costs 10.00 EUR.
 */
describe('changing a placed order', () => {
  let h: CoreHarness;
  const fwd = new ScriptedProvider({ identifier: 'fwd', common: { _feeAbs: 50, _feePercent: '2', _feeReverseCalc: false } });
  beforeAll(async () => { h = await createCoreHarness([fwd]); });
  afterAll(async () => { await h.destroy(); });

  const load = (id: string) => h.ds.manager.findOneByOrFail(Order, { id });
  const positions = (orderId: string) => h.ds.manager.find(OrderPosition, { where: { orderId }, order: { positionNo: 'ASC' } });
  const used = async (quotaId: string) => Number((await h.ds.query('SELECT used FROM quota_usage WHERE quota_id = $1', [quotaId]))[0].used);
  const change = (orderId: string, operations: OrderChangeOperation[], expectedFingerprint?: string) =>
    h.core.orders.changeOrder(orderId, { operations, actor: admin, expectedFingerprint });
  /** Everything a change could write, positions and quota counters included. */
  const snapshot = async () => ({
    rows: await snapshotRows(h.ds),
    positions: await h.ds.query('SELECT id, product_id, price::text, canceled, position_no FROM order_position ORDER BY id'),
    quotas: await h.ds.query('SELECT quota_id, used FROM quota_usage ORDER BY quota_id'),
    fees: await h.ds.query('SELECT id, value::text, canceled FROM order_fee ORDER BY id'),
  });

  it('cancels a position of a pending order: total, open payment and quota follow; logged with an event', async () => {
    const shop = await h.shop({ quotaSize: 10 });
    const { order, paymentId } = await h.order(shop, { count: 2 });
    expect(await used(shop.quota.id)).toBe(2);
    const [, second] = await positions(order.id);
    const result = await change(order.id, [{ kind: 'cancel_position', positionId: second!.id }]);
    expect(result).toMatchObject({ previousTotal: 2000, previousStatus: 'pending' });
    expect(result.order).toMatchObject({ total: 1000, status: 'pending' });
    expect(result.summary.pendingSum).toBe(1000);
    expect((await positions(order.id)).map((p) => p.canceled)).toEqual([false, true]);
    expect(await used(shop.quota.id)).toBe(1);
    // The first attempt was never started at the gateway: it is simply re-priced.
    expect(await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId })).toMatchObject({ state: 'created', amount: 1000 });
    expect(await logActions(h.ds, order.id)).toEqual(expect.arrayContaining(['kassa.order.changed.cancel_position', 'kassa.order.changed']));
    expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'order.changed']);
    const [event] = await h.ds.query(`SELECT payload FROM outbox_event WHERE order_id = $1 AND topic = 'order.changed'`, [order.id]);
    expect(event.payload).toMatchObject({ previousTotal: 2000, total: 1000, status: 'pending', pendingSum: 1000, operations: [{ kind: 'cancel_position', price: 1000 }] });
  });

  it('a paid order whose total grows becomes pending with a new deadline', async () => {
    const shop = await h.shop();
    const { order, paymentId } = await h.order(shop);
    await h.core.payments.confirmPayment(paymentId, { actor: card });
    h.clock.advance({ days: 3 });
    const [pos] = await positions(order.id);
    const result = await change(order.id, [{ kind: 'change_price', positionId: pos!.id, price: 1500 }]);
    expect(result.order).toMatchObject({ status: 'pending', total: 1500, expires: new Date(h.clock.now().getTime() + 14 * 86_400_000) });
    expect(result.summary).toMatchObject({ pendingSum: 500, paymentRefundSum: 1000 });
    expect(await load(order.id)).toMatchObject({ status: 'pending', total: 1500 });
    expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.confirmed', 'order.paid', 'order.changed']);
    // Paying the difference pays the order again.
    const rest = await h.core.payments.createPayment(order.id, { provider: 'card', actor: admin });
    expect(rest.amount).toBe(500);
    expect((await h.core.payments.confirmPayment(rest.id, { actor: card })).kind).toBe('order_paid');
  });

  it('a paid order whose total shrinks stays paid, is overpaid, and the refund proposal covers the difference', async () => {
    const shop = await h.shop();
    const { order, paymentId } = await h.order(shop, { count: 2 });
    await h.core.payments.confirmPayment(paymentId, { actor: card });
    const [first] = await positions(order.id);
    const result = await change(order.id, [{ kind: 'cancel_position', positionId: first!.id }]);
    expect(result.order).toMatchObject({ status: 'paid', total: 1000 });
    expect(result.summary).toMatchObject({ pendingSum: -1000, isOverpaid: true });
    expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.confirmed', 'order.paid', 'order.changed', 'order.overpaid']);
    const proposal = await h.core.refunds.proposeRefunds(order.id, money(1000, 'EUR'));
    expect(proposal.proposals.map((p) => [p.payment.id, p.amount.amount])).toEqual([[paymentId, 1000]]);
    expect(proposal.uncovered).toBe(0);
  });

  it('adds a position within quota, at the product\'s price or a given one, numbered after the last', async () => {
    const shop = await h.shop({ quotaSize: 3 });
    const { order } = await h.order(shop);
    const result = await change(order.id, [
      { kind: 'add_position', productId: shop.product.id },
      { kind: 'add_position', productId: shop.product.id, price: 0, attendeeName: 'Guest' },
    ]);
    expect(result.order.total).toBe(2000);
    expect((await positions(order.id)).map((p) => [p.positionNo, p.price, p.attendeeName])).toEqual([[1, 1000, 'Ada Lovelace'], [2, 1000, null], [3, 0, 'Guest']]);
    expect(await used(shop.quota.id)).toBe(3);
    expect((await logActions(h.ds, order.id)).filter((a) => a === 'kassa.order.changed.add_position')).toHaveLength(2);
  });

  it('refuses to add or move into a full quota, and writes nothing', async () => {
    const shop = await h.shop({ quotaSize: 1 });
    const { order } = await h.order(shop);
    const other = await otherProduct(shop, 0); // its quota is full from the start
    const [pos] = await positions(order.id);
    const before = await snapshot();
    expect(await errorCode(change(order.id, [{ kind: 'add_position', productId: shop.product.id }]))).toBe('ORDER_QUOTA_EXCEEDED');
    expect(await errorCode(change(order.id, [{ kind: 'change_product', positionId: pos!.id, productId: other.id }]))).toBe('ORDER_QUOTA_EXCEEDED');
    // The whole change is refused with its failing part: the price change is not written either.
    expect(await errorCode(change(order.id, [
      { kind: 'change_price', positionId: pos!.id, price: 1 }, { kind: 'add_position', productId: shop.product.id },
    ]))).toBe('ORDER_QUOTA_EXCEEDED');
    expect(await snapshot()).toEqual(before);
    // Canceling a seat and adding one in the same change nets to zero and fits.
    const swapped = await change(order.id, [{ kind: 'cancel_position', positionId: pos!.id }, { kind: 'add_position', productId: shop.product.id }]);
    expect(swapped.order.total).toBe(1000);
    expect(await used(shop.quota.id)).toBe(1);
  });

  it('never adds a position on a seat a buyer\'s cart holds (as placing an order would not), until the hold runs out', async () => {
    const shop = await h.shop({ quotaSize: 3 });
    const { order } = await h.order(shop);
    const [pos] = await positions(order.id);
    // A buyer's cart holds the two seats left.
    const held = await h.core.carts.reserve({ eventId: shop.event.id, cartId: randomUUID(), lines: [{ productId: shop.product.id, quantity: 2 }] });
    expect(held.ok).toBe(true);
    const before = await snapshot();
    expect(await errorCode(change(order.id, [{ kind: 'add_position', productId: shop.product.id }]))).toBe('ORDER_QUOTA_EXCEEDED');
    expect(await snapshot()).toEqual(before);
    // A change that takes no new seat still goes through: a new price, or a seat given up and taken again.
    await change(order.id, [{ kind: 'change_price', positionId: pos!.id, price: 900 }]);
    const swapped = await change(order.id, [{ kind: 'cancel_position', positionId: pos!.id }, { kind: 'add_position', productId: shop.product.id }]);
    expect(swapped.order.total).toBe(1000);
    expect(await used(shop.quota.id)).toBe(1);
    // Once the hold has run out, the seats are free for the change.
    h.clock.advance({ minutes: 31 });
    const added = await change(order.id, [{ kind: 'add_position', productId: shop.product.id }, { kind: 'add_position', productId: shop.product.id }]);
    expect(added.order.total).toBe(3000);
    expect(await used(shop.quota.id)).toBe(3);
  });

  it('moves a position to another product of the same full quota (the seat is reused) at that product\'s price', async () => {
    const shop = await h.shop({ quotaSize: 1 });
    const vip = await createProduct(h.ds, shop.event.id, { name: 'VIP', price: 2500 });
    await h.ds.query('INSERT INTO quota_product (quota_id, product_id) VALUES ($1, $2)', [shop.quota.id, vip.id]);
    const { order, paymentId } = await h.order(shop);
    const [pos] = await positions(order.id);
    const result = await change(order.id, [{ kind: 'change_product', positionId: pos!.id, productId: vip.id }]);
    expect(result.order.total).toBe(2500);
    expect((await positions(order.id))[0]).toMatchObject({ productId: vip.id, price: 2500 });
    expect(await used(shop.quota.id)).toBe(1);
    expect((await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId })).amount).toBe(2500);
  });

  it('recomputes the open payment fee on what is now owed', async () => {
    const shop = await h.shop();
    const { order, paymentId } = await h.order(shop, { provider: 'fwd' }); // 1000 + 0.50 + 2 % = 1070
    expect(order.total).toBe(1070);
    const result = await change(order.id, [{ kind: 'add_position', productId: shop.product.id }]);
    // 2000 owed → 0.50 + 40 = 0.90 fee.
    expect(result.order.total).toBe(2090);
    expect((await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId })).amount).toBe(2090);
    const fees = await h.ds.query(`SELECT value::int FROM order_fee WHERE order_id = $1 AND NOT canceled`, [order.id]);
    expect(fees).toEqual([{ value: 90 }]);
  });

  it('cancels an attempt already at the gateway for the old amount after the change, through its provider', async () => {
    const shop = await h.shop();
    const { order, paymentId } = await h.order(shop);
    h.card.paymentOutcomes.push({ kind: 'pending' });
    await h.core.payments.executePayment(paymentId, {});
    const [pos] = await positions(order.id);
    const result = await change(order.id, [{ kind: 'change_price', positionId: pos!.id, price: 800 }]);
    expect(result.canceledPayments).toEqual([paymentId]);
    expect((await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId })).state).toBe('canceled');
    expect(h.card.calls).toContainEqual(expect.objectContaining({ method: 'cancelPayment', id: paymentId }));
    expect(result.summary.pendingSum).toBe(800);
  });

  it('refuses a stale change, a canceled order and malformed operations, writing nothing', async () => {
    const shop = await h.shop();
    const { order } = await h.order(shop, { count: 2 });
    const [a] = await positions(order.id);
    const fingerprint = await h.core.orders.changeFingerprint(order.id);
    await change(order.id, [{ kind: 'add_position', productId: shop.product.id }], fingerprint);
    const foreign = await h.shop();
    const before = await snapshot();
    // The same form submitted again: the order is no longer what it was built from.
    expect(await errorCode(change(order.id, [{ kind: 'add_position', productId: shop.product.id }], fingerprint))).toBe('ORDER_CHANGE_STALE');
    for (const ops of [
      [],
      [{ kind: 'explode', positionId: a!.id }],
      [{ kind: 'change_price', positionId: a!.id, price: -1 }],
      [{ kind: 'change_price', positionId: a!.id, price: 1.5 }],
      // Beyond what an organizer may enter (MAX_ENTERED_AMOUNT), as on the product form.
      [{ kind: 'change_price', positionId: a!.id, price: 10_000_000_000_000 }],
      [{ kind: 'add_position', productId: shop.product.id, price: Number.MAX_SAFE_INTEGER }],
      [{ kind: 'cancel_position', positionId: a!.id }, { kind: 'change_price', positionId: a!.id, price: 5 }],
      [{ kind: 'add_position', productId: foreign.product.id }],
      [{ kind: 'cancel_position', positionId: '00000000-0000-4000-8000-000000000000' }],
    ] as unknown as OrderChangeOperation[][]) {
      expect(await errorCode(change(order.id, ops))).toBe('ORDER_CHANGE_INVALID');
    }
    const all = (await positions(order.id)).map((p) => ({ kind: 'cancel_position' as const, positionId: p.id }));
    expect(await errorCode(change(order.id, all))).toBe('ORDER_CHANGE_INVALID');
    expect(await snapshot()).toEqual(before);

    await h.core.orders.cancelOrder(order.id, { actor: admin });
    expect(await errorCode(change(order.id, [{ kind: 'add_position', productId: shop.product.id }]))).toBe('ORDER_NOT_CHANGEABLE');
  });

  async function otherProduct(shop: ShopFixture, size: number) {
    const product = await createProduct(h.ds, shop.event.id, { name: 'Other', price: 1200 });
    await createQuota(h.ds, shop.event.id, [product], size, 'Other quota');
    return product;
  }
});
