import {
  Event, Order, OrderFee, OrderPayment, OrderPosition, OrderRefund, Product, coreEntities, orderMachine, paymentEvents, paymentMachine,
  paymentStates, withTransaction,
} from '@kassa/core/host';
import { randomUUID } from 'node:crypto';
import { snapshotRows } from '@kassa/testing';
import { PlacementBatcher, type OrderRows } from '../../src/persistence/placement-batch';
import { columnList } from '../../src/persistence/rows';
import { changeOrder, changePayment } from '../../src/persistence/state-change';
import { admin, createCoreHarness, errorCode, type CoreHarness } from './core-harness';

/*
 * The persistence kernel's builder: a state change is one compare-and-set that writes the audit
 * entry and outbox event its machine edge declares, or nothing at all; and the per-instance state
 * (placement batcher, catalogue cache) is closed with the core instance.
 */
describe('persistence kernel', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  async function entries(orderId: string): Promise<{ action: string; object_type: string; object_id: string; data: Record<string, unknown> }[]> {
    return h.ds.query('SELECT action, object_type, object_id, data FROM log_entry WHERE order_id = $1 ORDER BY id', [orderId]);
  }
  async function events(orderId: string): Promise<{ topic: string; payload: Record<string, unknown> }[]> {
    return h.ds.query('SELECT topic, payload FROM outbox_event WHERE order_id = $1 ORDER BY id', [orderId]);
  }

  it('column lists read from the entity declarations match each DataSource\'s metadata', () => {
    for (const entity of [Order, OrderPayment, OrderRefund, OrderPosition, OrderFee, Event, Product, ...coreEntities]) {
      const meta = h.ds.getMetadata(entity);
      expect(columnList(entity, 'x').split(', ').sort()).toEqual(meta.columns.map((c) => `x.${c.databaseName}`).sort());
    }
  });

  it.each(paymentStates.flatMap((s) => paymentEvents.filter((e) => paymentMachine.can(s, e)).map((e) => [s, e] as const)))(
    'a payment %s on %s writes the edge\'s log action and topic with the change', async (from, event) => {
      const { order, paymentId } = await h.order(await h.shop());
      await h.ds.query('UPDATE order_payment SET state = $1 WHERE id = $2', [from, paymentId]);
      const logBefore = (await entries(order.id)).length;
      const eventsBefore = (await events(order.id)).length;
      await withTransaction(h.ds, async (tx) => {
        const payment = await tx.findOneByOrFail(OrderPayment, { id: paymentId });
        await changePayment(tx, order, payment, event, { actor: admin, data: { probe: 1 }, payload: { probe: 2 } });
      });
      const { to, effects } = paymentMachine.transition(from, event);
      const [row] = await h.ds.query('SELECT state FROM order_payment WHERE id = $1', [paymentId]);
      expect(row.state).toBe(to);
      const newEntries = (await entries(order.id)).slice(logBefore);
      expect(newEntries).toEqual([{ action: effects.log, object_type: 'payment', object_id: paymentId, data: { probe: 1 } }]);
      const newEvents = (await events(order.id)).slice(eventsBefore);
      expect(newEvents).toEqual([{ topic: effects.topic, payload: { orderId: order.id, code: order.code, paymentId, probe: 2 } }]);
    });

  it('a change that lost the race (STATE_CONFLICT) writes no state, no entry and no event', async () => {
    const { order } = await h.order(await h.shop());
    const stale = await h.ds.getRepository(Order).findOneByOrFail({ id: order.id });
    await h.core.orders.cancelOrder(order.id, { actor: admin });
    const before = await snapshotRows(h.ds);
    const code = await errorCode(withTransaction(h.ds, (tx) => changeOrder(tx, stale, 'extend', { actor: admin }, { expires: new Date('2031-01-01T00:00:00Z') })));
    expect(code).toBe('STATE_CONFLICT');
    expect(await snapshotRows(h.ds)).toEqual(before);
  });

  it('the order expiry writes the expire edge\'s entry and event for every order it expires', async () => {
    const shop = await h.shop();
    const a = await h.order(shop);
    const b = await h.order(shop);
    const now = new Date(Math.max(a.order.expires.getTime(), b.order.expires.getTime()) + 1000);
    expect(await h.core.orders.expireOrders(now)).toBeGreaterThanOrEqual(2);
    const effects = orderMachine.effectsOf('pending', 'expire');
    for (const { order } of [a, b]) {
      const [row] = await h.ds.query('SELECT status FROM kassa_order WHERE id = $1', [order.id]);
      expect(row.status).toBe(orderMachine.transition('pending', 'expire').to);
      expect((await entries(order.id)).filter((e) => e.action === effects.log)).toEqual([{
        action: effects.log, object_type: 'order', object_id: order.id, data: { expires: order.expires.toISOString(), now: now.toISOString() },
      }]);
      expect((await events(order.id)).filter((e) => e.topic === effects.topic)).toEqual([
        { topic: effects.topic, payload: { orderId: order.id, code: order.code } },
      ]);
    }
  });

  it('close() settles what is queued and refuses new placements', async () => {
    const batcher = new PlacementBatcher(h.ds.manager);
    // An order priced from an event that does not exist: decided 'stale' by the statement, nothing written.
    const rows: OrderRows = {
      id: randomUUID(), organizerId: randomUUID(), eventId: randomUUID(), code: 'CLOSE1', secret: randomUUID(), email: null, locale: 'en',
      total: 100, currency: 'EUR', expires: new Date('2031-01-01T00:00:00Z'), testmode: false, idempotencyKey: null, country: null,
      feeId: null, fee: 0, providerId: null, paymentId: null, paymentInitiated: false, actor: admin, logData: {}, eventPayload: {}, positions: [], cartId: null,
    };
    const pricedFrom = { paymentTermDays: 14, locale: 'en', paymentTermLast: null };
    const queued = [batcher.place(rows, pricedFrom), batcher.place({ ...rows, id: randomUUID(), code: 'CLOSE2' }, pricedFrom)];
    let closed = false;
    const closing = batcher.close().then(() => { closed = true; });
    await expect(batcher.place({ ...rows, id: randomUUID(), code: 'CLOSE3' }, pricedFrom)).rejects.toThrow(/closed/);
    expect(await Promise.all(queued)).toEqual([{ kind: 'stale' }, { kind: 'stale' }]);
    await closing;
    expect(closed).toBe(true);
  });

  it('KassaCore.close() closes the instance\'s batcher: a later placement is refused', async () => {
    const h2 = await createCoreHarness();
    try {
      const shop = await h2.shop();
      await h2.order(shop);
      await h2.core.close();
      await expect(h2.order(shop)).rejects.toThrow(/closed/);
    } finally {
      await h2.db.destroy();
    }
  });
});
