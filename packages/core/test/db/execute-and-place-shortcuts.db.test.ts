import { OrderPayment, toCommonSettings, type ProviderContext } from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, outboxTopics, type CoreHarness } from './core-harness';

/*
 * The shop's hot path sends fewer statements: executePayment marks the attempt initiated with one
 * UPDATE and books a 'pending' outcome with one statement; placeOrder runs the caller's write in
 * its transaction and reuses a provider context the caller built. Each still refuses and records
 * exactly what the longer path did.
 */
describe('executePayment and placeOrder on the shop path', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  const payment = (id: string) => h.ds.manager.findOneByOrFail(OrderPayment, { id });

  it('books a pending outcome with its log entry, its event and the info merged into what was there', async () => {
    const { order, paymentId } = await h.order(await h.shop());
    await h.ds.query(`UPDATE order_payment SET info = '{"kept":1,"reference":"old"}'::jsonb WHERE id = $1`, [paymentId]);
    h.card.paymentOutcomes.push({ kind: 'pending', info: { reference: 'SEPA-9' } });
    await h.core.payments.executePayment(paymentId, {});
    expect(await payment(paymentId)).toMatchObject({ state: 'pending', processInitiated: true, info: { kept: 1, reference: 'SEPA-9' } });
    const [entry] = await h.ds.query(`SELECT object_type, object_id, actor_type, actor_id, data FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.payment.pending'`, [order.id]);
    expect(entry).toEqual({ object_type: 'payment', object_id: paymentId, actor_type: 'provider', actor_id: 'card', data: { localId: 1, provider: 'card' } });
    const [event] = await h.ds.query(`SELECT organizer_id, payload FROM outbox_event WHERE order_id = $1 AND topic = 'payment.pending'`, [order.id]);
    expect(event).toEqual({ organizer_id: order.organizerId, payload: { orderId: order.id, code: order.code, paymentId, provider: 'card' } });
  });

  it('a pending outcome for a payment a webhook already moved takes the general path (no second entry)', async () => {
    const { order, paymentId } = await h.order(await h.shop());
    h.card.paymentOutcomes.push({ kind: 'pending' });
    h.card.onCall = async () => { await h.core.payments.pendPayment(paymentId, { actor: admin }); };
    try {
      await h.core.payments.executePayment(paymentId, {});
    } finally {
      h.card.onCall = null;
    }
    expect((await payment(paymentId)).state).toBe('pending');
    expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.pending']);
  });

  it('pending steps arriving together share statements and each books exactly its own payment, info, entry and event', async () => {
    const shop = await h.shop();
    const placed: Awaited<ReturnType<CoreHarness['order']>>[] = [];
    for (let i = 0; i < 12; i++) placed.push(await h.order(shop));
    // The seventh is moved by a "webhook" while its provider call runs; its info must stay the webhook's.
    h.card.onCall = async (_method, orderId) => {
      if (orderId === placed[6]!.order.id) await h.core.payments.pendPayment(placed[6]!.paymentId, { actor: admin, info: { by: 'webhook' } });
    };
    for (let i = 0; i < 12; i++) h.card.paymentOutcomes.push({ kind: 'pending', info: { reference: `REF-${i}` } });
    try {
      await Promise.all(placed.map((p) => h.core.payments.executePayment(p.paymentId, {})));
    } finally {
      h.card.onCall = null;
    }
    const rows = await h.ds.query(`SELECT p.id, p.state, p.info, (SELECT count(*)::int FROM log_entry l WHERE l.object_id = p.id::text AND l.action = 'kassa.order.payment.pending') AS entries,
        (SELECT count(*)::int FROM outbox_event e WHERE e.order_id = p.order_id AND e.topic = 'payment.pending') AS events
        FROM order_payment p WHERE p.id = ANY($1::uuid[])`, [placed.map((p) => p.paymentId)]) as { id: string; state: string; info: { reference?: string; by?: string }; entries: number; events: number }[];
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      expect(row).toMatchObject({ state: 'pending', entries: 1, events: 1 });
      // The provider's outcomes were handed out in call order, so each payment has one REF; the webhook's payment kept its own info.
      if (row.id === placed[6]!.paymentId) expect(row.info).toEqual({ by: 'webhook' });
      else expect(row.info.reference).toMatch(/^REF-\d+$/);
    }
    expect(new Set(rows.map((r) => r.info.reference).filter(Boolean)).size).toBe(11);
  });

  it('refuses to execute for a canceled order, without calling the provider or writing anything', async () => {
    const { order, paymentId } = await h.order(await h.shop());
    await h.ds.query(`UPDATE kassa_order SET status = 'canceled' WHERE id = $1`, [order.id]);
    const calls = h.card.calls.length;
    const before = await snapshotRows(h.ds);
    expect(await errorCode(h.core.payments.executePayment(paymentId, {}))).toBe('ORDER_NOT_PAYABLE');
    expect(await snapshotRows(h.ds)).toEqual(before);
    expect(h.card.calls.length).toBe(calls);
  });

  it('two concurrent executions of one attempt call the provider once', async () => {
    const { paymentId } = await h.order(await h.shop());
    h.card.paymentOutcomes.push({ kind: 'pending' });
    const calls = h.card.calls.length;
    const codes = await Promise.all([0, 1].map(() => h.core.payments.executePayment(paymentId, {}).then(() => 'ok', (e: { code?: string }) => e.code)));
    expect(codes.sort()).toEqual(['PAYMENT_NOT_EXECUTABLE', 'ok']);
    expect(h.card.calls.length).toBe(calls + 1);
  });

  it('rows the caller passes for another payment are not used', async () => {
    const shop = await h.shop();
    const a = await h.core.orders.placeOrder({ eventId: shop.event.id, email: 'a@example.org', positions: [{ productId: shop.product.id }], provider: 'card' });
    const b = await h.core.orders.placeOrder({ eventId: shop.event.id, email: 'b@example.org', positions: [{ productId: shop.product.id }], provider: 'card' });
    h.card.paymentOutcomes.push({ kind: 'pending' });
    await h.core.payments.executePayment(b.payment!.id, {}, { loaded: { payment: a.payment!, order: a.order, event: shop.event } });
    expect(h.card.calls.at(-1)).toMatchObject({ method: 'executePayment', id: b.payment!.id });
    expect((await payment(a.payment!.id)).state).toBe('created');
    expect((await payment(b.payment!.id)).state).toBe('pending');
  });

  describe('placeOrder', () => {
    it("commits the caller's onPlaced write with the order, and rolls it back with a refused order", async () => {
      const shop = await h.shop({ quotaSize: 1 });
      await h.ds.query('CREATE TABLE IF NOT EXISTS test_bound (order_id uuid PRIMARY KEY)');
      const onPlaced = async (tx: Parameters<NonNullable<Parameters<typeof h.core.orders.placeOrder>[0]['onPlaced']>>[0], o: { id: string }) => {
        await tx.query('INSERT INTO test_bound (order_id) VALUES ($1)', [o.id]);
      };
      const input = { eventId: shop.event.id, email: 'x@example.org', positions: [{ productId: shop.product.id }], provider: 'card', onPlaced };
      const placed = await h.core.orders.placeOrder(input);
      expect(await h.ds.query('SELECT order_id FROM test_bound')).toEqual([{ order_id: placed.order.id }]);
      expect(await errorCode(h.core.orders.placeOrder(input))).toBe('ORDER_QUOTA_EXCEEDED');
      expect(await h.ds.query('SELECT order_id FROM test_bound')).toEqual([{ order_id: placed.order.id }]);
      await h.ds.query('DROP TABLE test_bound');
    });

    it("uses the caller's provider context for the fee when it is for this event, and ignores it otherwise", async () => {
      const shop = await h.shop();
      const other = await h.shop();
      const ctx = (event: typeof shop.event): ProviderContext => ({
        event, clock: h.clock, baseUrl: 'http://kassa.test', settings: {},
        common: toCommonSettings({ _enabled: true, _feeAbs: 150 }, true),
      });
      const base = { eventId: shop.event.id, email: 'f@example.org', positions: [{ productId: shop.product.id }], provider: 'card' };
      const withFee = await h.core.orders.placeOrder({ ...base, providerContext: ctx(shop.event) });
      const ignored = await h.core.orders.placeOrder({ ...base, providerContext: ctx(other.event) });
      expect(withFee.fees.map((f) => f.value)).toEqual([150]);
      expect(withFee.order.total).toBe(shop.product.price + 150);
      expect(ignored.fees).toEqual([]);
      expect(ignored.order.total).toBe(shop.product.price);
    });
  });
});
