import { Order, OrderPayment, money } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;
const DAY = 86_400_000;

/**
 * "Can this order still be paid?" (order-payability.ts): refused before any money moves when the
 * order is paid, canceled, past the last date of payments, or expired without late payments or
 * quota; and an organizer's mark-as-paid, with force past quota (pretix's force).
 */
describe('orders that cannot be paid', () => {
  let h: CoreHarness;
  const manual = new ScriptedProvider({ identifier: 'manual' });
  beforeAll(async () => { h = await createCoreHarness([manual]); });
  afterAll(async () => { await h.destroy(); });
  const status = async (id: string) => (await h.ds.manager.findOneByOrFail(Order, { id })).status;

  async function expired(opts: { quotaSize?: number; acceptLate?: boolean } = {}) {
    const shop = await h.shop({ quotaSize: opts.quotaSize ?? 1, event: { paymentTermAcceptLate: opts.acceptLate ?? true } });
    const placed = await h.order(shop);
    h.clock.advance({ days: 15 });
    await h.core.orders.expireOrders();
    expect(await status(placed.order.id)).toBe('expired');
    return { shop, ...placed };
  }

  /** executePayment refuses before the provider is called and leaves the attempt untouched. */
  async function refusedBeforeMoney(paymentId: string, reason: RegExp) {
    const calls = h.card.calls.length;
    const before = await snapshotRows(h.ds);
    const err = await h.core.payments.executePayment(paymentId, {}).then(() => null, (e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'ORDER_NOT_PAYABLE', message: expect.stringMatching(reason) });
    expect(h.card.calls.length).toBe(calls);
    expect(await snapshotRows(h.ds)).toEqual(before);
    expect((await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId })).processInitiated).toBe(false);
  }

  it('a pending order can be paid; paid and canceled ones cannot', async () => {
    const shop = await h.shop();
    const a = await h.order(shop);
    expect(await h.core.orders.paymentRefusal(a.order.id)).toBeNull();
    await h.core.payments.confirmPayment(a.paymentId, { actor: card });
    expect(await h.core.orders.paymentRefusal(a.order.id)).toMatchObject({ code: 'order_paid' });
    const b = await h.order(shop);
    await h.core.orders.cancelOrder(b.order.id, { actor: admin });
    expect(await h.core.orders.paymentRefusal(b.order.id)).toMatchObject({ code: 'order_canceled' });
    expect(await errorCode(h.core.orders.assertPayable(b.order.id))).toBe('ORDER_NOT_PAYABLE');
  });

  it('an expired order whose quota is gone: no payment can start, none is executed', async () => {
    const { shop, order, paymentId } = await expired({ quotaSize: 1 });
    expect(await h.core.orders.paymentRefusal(order.id)).toBeNull(); // the seat is still free
    await h.order(shop); // someone else takes it
    expect(await h.core.orders.paymentRefusal(order.id)).toMatchObject({ code: 'quota_gone', reason: expect.stringMatching(/no longer available/) });
    expect(await errorCode(h.core.payments.createPayment(order.id, { provider: 'card', actor: { type: 'buyer' } }))).toBe('ORDER_NOT_PAYABLE');
    await refusedBeforeMoney(paymentId, /no longer available/);
  });

  it('an expired order of an event without late payments cannot be paid', async () => {
    const { order, paymentId } = await expired({ quotaSize: 10, acceptLate: false });
    expect(await h.core.orders.paymentRefusal(order.id)).toMatchObject({ code: 'late_not_accepted' });
    await refusedBeforeMoney(paymentId, /late payments are not accepted/);
  });

  it('an expired order with quota and late payments on can still be paid', async () => {
    const { order, paymentId } = await expired({ quotaSize: 10 });
    expect(await h.core.orders.paymentRefusal(order.id)).toBeNull();
    const r = await h.core.payments.executePayment(paymentId, {});
    expect(r).toMatchObject({ outcome: { kind: 'confirmed' }, confirmation: { kind: 'order_paid' } });
  });

  describe('the last date of payments', () => {
    it('no payment starts after it, not even for a pending order', async () => {
      const shop = await h.shop({ event: { paymentTermLast: new Date(h.clock.now().getTime() + DAY) } });
      const { order, paymentId } = await h.order(shop, { provider: 'bank' });
      const card2 = await h.core.payments.createPayment(order.id, { provider: 'card', actor: { type: 'buyer' } });
      h.clock.advance({ days: 2 });
      expect(await h.core.orders.paymentRefusal(order.id)).toMatchObject({ code: 'last_date_passed' });
      expect(await errorCode(h.core.payments.createPayment(order.id, { provider: 'card', actor: { type: 'buyer' } }))).toBe('ORDER_NOT_PAYABLE');
      await refusedBeforeMoney(card2.id, /last date of payments/);
      // Switching the method is refused too, before the open attempt is abandoned.
      expect(await errorCode(h.core.payments.changePaymentMethod(order.id, { provider: 'card', actor: { type: 'buyer' } }))).toBe('ORDER_NOT_PAYABLE');
      expect((await h.ds.manager.findOneByOrFail(OrderPayment, { id: card2.id })).state).toBe('created');
      // Money that still arrives (a bank transfer sent in time) is kept but does not mark the order paid.
      const late = await h.core.payments.confirmPayment(paymentId, { actor: { type: 'provider', id: 'bank' } });
      expect(late).toMatchObject({ kind: 'quota_exceeded', payment: { state: 'confirmed' }, order: { status: 'pending', isPendingWithFullPayment: true } });
      expect(late.kind === 'quota_exceeded' && late.reason).toMatch(/last date of payments/);
      expect(await status(order.id)).toBe('pending');
      expect(await logActions(h.ds, order.id)).toContain('kassa.order.quotaexceeded');
      // The organizer decides: mark it paid (the last date is the organizer's own rule).
      expect(await errorCode(h.core.orders.markPaid(order.id, { actor: admin }))).toBe('ORDER_MARK_PAID_REFUSED');
      const forced = await h.core.orders.markPaid(order.id, { actor: admin, force: true });
      expect(forced).toMatchObject({ order: { status: 'paid' }, payment: null, overbooked: false });
    });

    it('no order that needs paying is placed after it, and deadlines never lie beyond it', async () => {
      const last = new Date(h.clock.now().getTime() + DAY);
      const shop = await h.shop({ event: { paymentTermLast: last } });
      const { order } = await h.order(shop);
      expect(order.expires.toISOString()).toBe(last.toISOString()); // not now + 14 days
      h.clock.advance({ days: 2 });
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.order(shop))).toBe('ORDER_NOT_PAYABLE');
      expect(await snapshotRows(h.ds)).toEqual(before);
    });

    it('a last date set after the event was cached still stops the next order (the placement statement checks it)', async () => {
      const shop = await h.shop();
      await h.order(shop); // the catalogue (with no last date) is cached now
      // Set in SQL with microseconds, as an operator might: compared at JavaScript's millisecond precision.
      await h.ds.query(`UPDATE event SET payment_term_last = $1::timestamptz - interval '1.000123 second' WHERE id = $2`, [h.clock.now(), shop.event.id]);
      expect(await errorCode(h.order(shop))).toBe('ORDER_NOT_PAYABLE');
      await h.ds.query(`UPDATE event SET payment_term_last = $1::timestamptz + interval '1 day 0.000456 second' WHERE id = $2`, [h.clock.now(), shop.event.id]);
      const later = await h.order(shop); // a date in the future: placing works, and does not loop on the sub-millisecond part
      expect(later.order.status).toBe('pending');
    });

    it('before it, payments work as usual', async () => {
      const shop = await h.shop({ event: { paymentTermLast: new Date(h.clock.now().getTime() + DAY) } });
      const { order, paymentId } = await h.order(shop);
      expect(await h.core.orders.paymentRefusal(order.id)).toBeNull();
      expect((await h.core.payments.confirmPayment(paymentId, { actor: card })).kind).toBe('order_paid');
    });
  });

  describe('mark as paid (pretix, with force)', () => {
    it('forces a late payment that found no quota to paid, overbooking, and logs it', async () => {
      const { shop, order, paymentId } = await expired({ quotaSize: 1 });
      await h.order(shop); // the seat is taken
      // The money arrives late: kept, flagged, the order stays expired. No path to paid without force.
      expect(await h.core.payments.confirmPayment(paymentId, { actor: card })).toMatchObject({ kind: 'quota_exceeded' });
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'expired', isPendingWithFullPayment: true });

      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.orders.markPaid(order.id, { actor: admin }))).toBe('ORDER_MARK_PAID_REFUSED');
      expect(await snapshotRows(h.ds)).toEqual(before);

      const result = await h.core.orders.markPaid(order.id, { actor: admin, force: true });
      expect(result).toMatchObject({ order: { status: 'paid' }, payment: null, overbooked: true, summary: { pendingSum: 0, isPendingWithFullPayment: false } });
      const [entry] = await h.ds.query(`SELECT data FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.paid'`, [order.id]);
      expect(entry.data).toMatchObject({ from: 'expired', force: true, markedPaid: true, overbooked: true, overridden: 'quota_gone' });
      expect(await logActions(h.ds, order.id)).toContain('kassa.order.overbooked');
      expect(await outboxTopics(h.ds, order.id)).toContain('order.paid');
      const [used] = await h.ds.query('SELECT used FROM quota_usage WHERE quota_id = $1', [shop.quota.id]);
      expect(Number(used.used)).toBe(2); // one seat, two paid orders: the organizer's choice
      // Once paid, marking it again is refused.
      expect(await errorCode(h.core.orders.markPaid(order.id, { actor: admin, force: true }))).toBe('STATE_TRANSITION_NOT_ALLOWED');
    });

    it('without force, an expired fully paid order is marked paid when its quota is back', async () => {
      const { shop, order, paymentId } = await expired({ quotaSize: 1 });
      const other = await h.order(shop);
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      await h.core.orders.cancelOrder(other.order.id, { actor: admin }); // the seat is free again
      const result = await h.core.orders.markPaid(order.id, { actor: admin });
      expect(result).toMatchObject({ order: { status: 'paid' }, overbooked: false });
    });

    it('books what is still owed as a confirmed manual payment (pretix mark_paid)', async () => {
      const { order } = await h.order(await h.shop({ price: 2500 }), { provider: 'bank' });
      const result = await h.core.orders.markPaid(order.id, { actor: admin });
      expect(result).toMatchObject({ order: { status: 'paid' }, payment: { provider: 'manual', amount: 2500, state: 'confirmed' }, overbooked: false });
    });

    it('two clicks at once book the open amount once', async () => {
      const { order } = await h.order(await h.shop({ price: 2500 }), { provider: 'bank' });
      const results = await Promise.allSettled([
        h.core.orders.markPaid(order.id, { actor: admin }), h.core.orders.markPaid(order.id, { actor: admin }), h.core.orders.markPaid(order.id, { actor: admin }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
      const [row] = await h.ds.query(`SELECT count(*)::int AS n, coalesce(sum(amount), 0)::int AS s FROM order_payment WHERE order_id = $1 AND provider = 'manual'`, [order.id]);
      expect(row).toEqual({ n: 1, s: 2500 });
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'paid', pendingSum: 0, isOverpaid: false });
    });

    it('refuses a canceled order and an unknown id', async () => {
      const { order } = await h.order(await h.shop());
      await h.core.orders.cancelOrder(order.id, { actor: admin });
      expect(await errorCode(h.core.orders.markPaid(order.id, { actor: admin, force: true }))).toBe('STATE_TRANSITION_NOT_ALLOWED');
      expect(await errorCode(h.core.orders.markPaid('not-a-uuid', { actor: admin }))).toBe('NOT_FOUND');
    });
  });

  it('a forced payment start is the organizer\'s: createPayment with force skips the quota check', async () => {
    const { shop, order } = await expired({ quotaSize: 1 });
    await h.order(shop);
    const p = await h.core.payments.createPayment(order.id, { provider: 'bank', amount: money(1000, 'EUR'), actor: admin, force: true });
    expect(p.state).toBe('created');
  });
});
