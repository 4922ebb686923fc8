import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import { claimOutboxEffect, outboxEffectKey, recordOutboxDelivery, settleOutboxBatch } from '../../src/persistence/outbox-delivery.store';
import { loadOutboxEvent, loadOutboxEventForDelivery, loadOutboxEventsForDelivery, OutboxRelayStore } from '../../src/persistence/outbox-relay.store';

/*
 * The outbox's persistence, as the jobs relay and event job use it: which events head their
 * order's line, the effects ledger's claim, and the delivery record that hands the line on.
 */
let db: TestDatabase;
let store: OutboxRelayStore;
const orderA = randomUUID();
const orderB = randomUUID();

beforeAll(async () => {
  db = await createTestDatabase();
  store = new OutboxRelayStore(db.dataSource);
});
beforeEach(async () => {
  await db.dataSource.query('TRUNCATE outbox_event, outbox_delivery, outbox_effect RESTART IDENTITY CASCADE');
});
afterAll(async () => {
  await db.destroy();
});

/** Inserts events in this order; returns their ids. */
async function insert(...events: { topic: string; orderId: string | null }[]): Promise<string[]> {
  const ids: string[] = [];
  for (const e of events) {
    const [row] = await db.dataSource.query(
      `INSERT INTO outbox_event (topic, order_id, payload) VALUES ($1, $2, '{"n": 1}') RETURNING id::text AS id`, [e.topic, e.orderId]);
    ids.push(row.id);
  }
  return ids;
}

const finish = (eventId: string, orderId: string | null, state: 'done' | 'failed' = 'done', error: string | null = null) =>
  recordOutboxDelivery(db.dataSource, { eventId, orderId, state, error, finishedAt: new Date('2030-01-01T00:00:00Z') });

describe('the relay store', () => {
  it('offers only the head of each order\'s line, oldest first, and events without an order at once', async () => {
    const [a1, b1, a2, free, b2] = await insert(
      { topic: 'order.placed', orderId: orderA }, { topic: 'order.placed', orderId: orderB }, { topic: 'order.paid', orderId: orderA },
      { topic: 'instance.note', orderId: null }, { topic: 'order.paid', orderId: orderB });
    expect(await store.heads(10, 400)).toEqual([
      { id: a1, topic: 'order.placed', orderId: orderA }, { id: b1, topic: 'order.placed', orderId: orderB }, { id: free, topic: 'instance.note', orderId: null },
    ]);
    await store.markRelayed([a1!, b1!, free!]);
    // Relayed but not delivered: the line is still held.
    expect(await store.heads(10, 400)).toEqual([]);
    // The delivery hands A's line on: a2 is marked relayed with it, for the caller to enqueue.
    expect(await finish(a1!, orderA)).toEqual([{ id: a2, topic: 'order.paid', orderId: orderA }]);
    expect(await store.heads(10, 400)).toEqual([]);
    // A failed event does not hold its order back for ever.
    expect(await finish(b1!, orderB, 'failed', 'gave up')).toEqual([{ id: b2, topic: 'order.paid', orderId: orderB }]);
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM outbox_event WHERE relayed_at IS NULL')).toEqual([{ n: 0 }]);
  });

  it('tells the next poll where to start: after the events found waiting, but never past recent ones or past a cut-short scan', async () => {
    const [a1, a2, b1, a3] = await insert(
      { topic: 'x', orderId: orderA }, { topic: 'x', orderId: orderA }, { topic: 'x', orderId: orderB }, { topic: 'x', orderId: orderA });
    const settled = new Date('2100-01-01T00:00:00Z'); // every event counts as old enough
    expect(await store.headsAfter('0', 1, 400, settled)).toEqual({ heads: [{ id: a1, topic: 'x', orderId: orderA }], scannedUpTo: a1 });
    expect(await store.headsAfter('0', 10, 400, settled)).toEqual({
      heads: [{ id: a1, topic: 'x', orderId: orderA }, { id: b1, topic: 'x', orderId: orderB }], scannedUpTo: a3,
    });
    // Events this recent may still be joined by a lower id: the mark stays below the first of them.
    expect((await store.headsAfter('0', 10, 400, new Date(0))).scannedUpTo).toBe((BigInt(a1!) - 1n).toString());
    await store.markRelayed([a1!, b1!]);
    // a2 and a3 wait behind a1; scanning on from a1 finds them and moves past them.
    expect(await store.headsAfter(a1!, 10, 400, settled)).toEqual({ heads: [], scannedUpTo: a3 });
    expect(await store.headsAfter(a3!, 10, 400, settled)).toEqual({ heads: [], scannedUpTo: null });
    // The delivery of a1 hands the line to a2, not the poll.
    expect(await finish(a1!, orderA)).toEqual([{ id: a2, topic: 'x', orderId: orderA }]);
  });

  it('limits each call to the batch, and a second mark changes nothing', async () => {
    const ids = await insert(...Array.from({ length: 5 }, () => ({ topic: 't', orderId: null })));
    expect((await store.heads(2, 80)).map((e) => e.id)).toEqual(ids.slice(0, 2));
    await store.markRelayed(ids.slice(0, 2));
    const [first] = await db.dataSource.query('SELECT relayed_at FROM outbox_event WHERE id = $1', [ids[0]]);
    await store.markRelayed(ids.slice(0, 2));
    expect(await db.dataSource.query('SELECT relayed_at FROM outbox_event WHERE id = $1', [ids[0]])).toEqual([first]);
    expect((await store.heads(10, 400)).map((e) => e.id)).toEqual(ids.slice(2));
  });

  it('finds relayed events without a delivery above a mark, stale when relayed before the cut-off, and the sweep bounds', async () => {
    const [e1, e2, e3, e4] = await insert(
      { topic: 't', orderId: null }, { topic: 't', orderId: null }, { topic: 't', orderId: null }, { topic: 't', orderId: null });
    await db.dataSource.query(`UPDATE outbox_event SET relayed_at = now() - interval '10 minutes' WHERE id IN ($1, $2)`, [e1, e2]);
    await db.dataSource.query('UPDATE outbox_event SET relayed_at = now() WHERE id = $1', [e3]);
    await finish(e2!, null);
    const cutOff = new Date(Date.now() - 60_000);
    expect(await store.relayedWithoutDelivery('0', cutOff, 10)).toEqual([
      { id: e1, topic: 't', orderId: null, stale: true }, { id: e3, topic: 't', orderId: null, stale: false },
    ]);
    expect(await store.relayedWithoutDelivery(e1!, cutOff, 10)).toEqual([{ id: e3, topic: 't', orderId: null, stale: false }]);
    expect(await store.sweepBounds(new Date(Date.now() + 60_000))).toEqual({ unrelayed: e4, max: e4 });
    expect(await store.sweepBounds(new Date('2000-01-01'))).toEqual({ unrelayed: e4, max: null });
  });
});

describe('the delivery store', () => {
  it('claims a handler\'s effect once per event; a claim rolled back with its effect can be claimed again', async () => {
    const [id] = await insert({ topic: 'order.paid', orderId: orderA });
    await expect(db.dataSource.transaction(async (tx) => {
      expect(await claimOutboxEffect(tx, 'email.order-paid', id!)).toBe(true);
      throw new Error('the effect failed');
    })).rejects.toThrow('the effect failed');
    expect(await db.dataSource.transaction((tx) => claimOutboxEffect(tx, 'email.order-paid', id!))).toBe(true);
    expect(await db.dataSource.transaction((tx) => claimOutboxEffect(tx, 'email.order-paid', id!))).toBe(false);
    // Another handler of the same event has its own claim.
    expect(await db.dataSource.transaction((tx) => claimOutboxEffect(tx, 'acme.on-paid', id!))).toBe(true);
  });

  it('records the delivery and hands the order\'s line to its next event, each event once', async () => {
    const [a1, a2, a3] = await insert({ topic: 'x', orderId: orderA }, { topic: 'y', orderId: orderA }, { topic: 'z', orderId: orderA });
    await store.markRelayed([a1!]);
    expect(await finish(a1!, orderA)).toEqual([{ id: a2, topic: 'y', orderId: orderA }]);
    // a1 delivered again while a2 is under way: a3 is a2's to hand on, not a1's.
    expect(await finish(a1!, orderA)).toEqual([]);
    expect(await finish(a2!, orderA)).toEqual([{ id: a3, topic: 'z', orderId: orderA }]);
    // a3 is already relayed: finishing it, or a1 again, hands nothing out a second time.
    expect(await finish(a3!, orderA)).toEqual([]);
    expect(await finish(a1!, orderA)).toEqual([]);
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM outbox_delivery')).toEqual([{ n: 3 }]);
  });

  it('replaces a failed record when the event is retried and done', async () => {
    const [a1] = await insert({ topic: 'x', orderId: orderA });
    await finish(a1!, orderA, 'failed', 'boom');
    expect(await db.dataSource.query('SELECT state, error FROM outbox_delivery WHERE event_id = $1', [a1])).toEqual([{ state: 'failed', error: 'boom' }]);
    await finish(a1!, orderA);
    expect(await db.dataSource.query('SELECT state, error FROM outbox_delivery WHERE event_id = $1', [a1])).toEqual([{ state: 'done', error: null }]);
  });

  it('records an event without an order and hands nothing on', async () => {
    const [free] = await insert({ topic: 'x', orderId: null }, { topic: 'y', orderId: null });
    expect(await finish(free!, null)).toEqual([]);
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM outbox_event WHERE relayed_at IS NOT NULL')).toEqual([{ n: 0 }]);
  });

  it('loads an event for delivery with whether an earlier event of its order is unfinished', async () => {
    const [a1, a2] = await insert({ topic: 'x', orderId: orderA }, { topic: 'y', orderId: orderA });
    expect(await loadOutboxEventForDelivery(db.dataSource, a2!)).toMatchObject({ event: { id: a2, topic: 'y', orderId: orderA, organizerId: null, payload: { n: 1 } }, blocked: true });
    await finish(a1!, orderA);
    expect(await loadOutboxEventForDelivery(db.dataSource, a2!)).toMatchObject({ blocked: false });
    expect(await loadOutboxEventForDelivery(db.dataSource, '999999')).toBeNull();
    expect(await loadOutboxEvent(db.dataSource, a1!)).toMatchObject({ id: a1, topic: 'x', orderId: orderA });
    expect(await loadOutboxEvent(db.dataSource, '999999')).toBeNull();
  });

  it('settles many events in one statement: claims each effect once, records the deliveries, hands each line on once', async () => {
    const [a1, b1, a2, b2, free] = await insert(
      { topic: 'x', orderId: orderA }, { topic: 'x', orderId: orderB }, { topic: 'y', orderId: orderA }, { topic: 'y', orderId: orderB },
      { topic: 'z', orderId: null });
    await db.dataSource.transaction((tx) => claimOutboxEffect(tx, 'h.one', b1!)); // claimed before: a redelivery
    const at = new Date('2030-01-01T00:00:00Z');
    const settled = await db.dataSource.transaction((tx) => settleOutboxBatch(
      tx,
      [{ handler: 'h.one', eventId: a1! }, { handler: 'h.two', eventId: a1! }, { handler: 'h.one', eventId: b1! }, { handler: 'h.one', eventId: free! }],
      [
        { eventId: a1!, orderId: orderA, state: 'done', error: null, finishedAt: at },
        { eventId: b1!, orderId: orderB, state: 'failed', error: 'gave up', finishedAt: at },
        { eventId: free!, orderId: null, state: 'done', error: null, finishedAt: at },
      ],
    ));
    expect([...settled.claimed].sort()).toEqual([outboxEffectKey('h.one', a1!), outboxEffectKey('h.one', free!), outboxEffectKey('h.two', a1!)].sort());
    // Each line's next event, marked relayed and loaded: not waiting, since the events before it were settled in the same statement.
    expect(settled.next.sort((x, y) => Number(x.id) - Number(y.id))).toMatchObject([
      { id: a2, topic: 'y', orderId: orderA, loaded: { event: { id: a2, topic: 'y', orderId: orderA, organizerId: null, payload: { n: 1 } }, blocked: false } },
      { id: b2, topic: 'y', orderId: orderB, loaded: { blocked: false } },
    ]);
    expect(await db.dataSource.query('SELECT event_id::text AS id, state, error FROM outbox_delivery ORDER BY event_id')).toEqual([
      { id: a1, state: 'done', error: null }, { id: b1, state: 'failed', error: 'gave up' }, { id: free, state: 'done', error: null },
    ]);
    // Settled again (a redelivery): nothing claimed, nothing handed on twice, b1's record replaced.
    const again = await db.dataSource.transaction((tx) => settleOutboxBatch(
      tx, [{ handler: 'h.one', eventId: a1! }], [{ eventId: b1!, orderId: orderB, state: 'done', error: null, finishedAt: at }]));
    expect(again).toEqual({ claimed: new Set(), next: [] });
    expect(await db.dataSource.query('SELECT state FROM outbox_delivery WHERE event_id = $1', [b1])).toEqual([{ state: 'done' }]);
  });

  it('loads many events for delivery in one statement, with whether each must wait', async () => {
    const [a1, a2] = await insert({ topic: 'x', orderId: orderA }, { topic: 'y', orderId: orderA });
    const found = await loadOutboxEventsForDelivery(db.dataSource, [a1!, a2!, '999999']);
    expect([...found.keys()].sort()).toEqual([a1, a2].sort());
    expect(found.get(a1!)).toMatchObject({ event: { id: a1, topic: 'x', orderId: orderA, payload: { n: 1 } }, blocked: false });
    expect(found.get(a2!)).toMatchObject({ blocked: true });
  });
});
