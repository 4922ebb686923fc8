import type { DataSource, EntityManager } from 'typeorm';
import { prepared, queryPrepared } from '../db/prepared-query';

/** What the relay and the event job need of an outbox event to enqueue it. */
export interface OutboxEventRef {
  /** outbox_event.id: bigint as a string. */
  readonly id: string;
  readonly topic: string;
  readonly orderId: string | null;
}

/** An outbox event as its handlers read it. */
export interface OutboxEventRow extends OutboxEventRef {
  readonly organizerId: string | null;
  readonly payload: Record<string, unknown>;
  readonly createdAt: Date;
}

type Db = Pick<EntityManager, 'query'>;
interface RefRow { id: string; topic: string; order_id: string | null }
const refOf = (r: RefRow): OutboxEventRef => ({ id: r.id, topic: r.topic, orderId: r.order_id });

/**
 * The relay's reads and writes of `outbox_event`: one statement per call, as the relay's loop
 * needs them (it is the hot path of every event). Create one per DataSource; it holds nothing else.
 */
export class OutboxRelayStore {
  constructor(private readonly db: Db) {}

  /**
   * Unrelayed events, oldest first, that head their order's line: every earlier event of the same
   * order has a delivery record. `window` bounds the anti-join's work per call; heads further back
   * are reached as the events before them get relayed.
   */
  async heads(limit: number, window: number): Promise<OutboxEventRef[]> {
    return (await this.headsAfter('0', limit, window, new Date(0))).heads;
  }

  /**
   * {@link heads} among the events above `afterId`, and how far the next call may start:
   * `scannedUpTo` is the highest id below which every unrelayed event not returned was found
   * waiting behind an unfinished event of its order, counting only events created before
   * `settledBefore` (a transaction that commits late can still add a lower id; the caller
   * rescans from the start now and then for those). A waiting event never heads its line later:
   * the delivery of the event before it marks it relayed. Null when nothing was scanned.
   */
  async headsAfter(afterId: string, limit: number, window: number, settledBefore: Date): Promise<{ heads: OutboxEventRef[]; scannedUpTo: string | null }> {
    // Only the first unrelayed event of each order in the window can head its line, so the
    // anti-join runs once per order, not once per waiting event: a backlog of many events per
    // order (a rush) would otherwise cost a probe per waiting event on every poll. The last row
    // (id NULL) carries the window's bounds, read in the same snapshot as the heads.
    const rows: (RefRow & { max_id: string | null; first_recent: string | null })[] = await this.db.query(
      `WITH candidate AS (
         SELECT id, order_id, created_at FROM outbox_event WHERE relayed_at IS NULL AND id > $3 ORDER BY id LIMIT $2
       ), first_per_order AS (
         SELECT min(id) AS id, order_id FROM candidate WHERE order_id IS NOT NULL GROUP BY order_id
       ), head AS (
         SELECT h.id, e.topic, h.order_id FROM (
           SELECT c.id, c.order_id FROM first_per_order c
             LEFT JOIN LATERAL (
               SELECT 1 AS found FROM outbox_event p
                WHERE p.order_id = c.order_id AND p.id < c.id
                  AND NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.event_id = p.id)
                ORDER BY p.id DESC LIMIT 1
             ) blocker ON true
            WHERE blocker.found IS NULL
           UNION ALL
           SELECT c.id, c.order_id FROM candidate c WHERE c.order_id IS NULL
         ) h JOIN outbox_event e ON e.id = h.id
         ORDER BY h.id LIMIT $1
       )
       SELECT id::text AS id, topic, order_id, NULL::text AS max_id, NULL::text AS first_recent, 0 AS part, id AS seq FROM head
       UNION ALL
       SELECT NULL, NULL, NULL, max(id)::text, (min(id) FILTER (WHERE created_at >= $4))::text, 1, NULL FROM candidate
       ORDER BY part, seq`,
      [limit, window, afterId, settledBefore],
    );
    const bounds = rows[rows.length - 1]!;
    const heads = rows.slice(0, -1).map(refOf);
    if (bounds.max_id === null) return { heads, scannedUpTo: null };
    // Cut short by the limit: only the events up to the last head were all looked at.
    let upTo = BigInt(heads.length === limit ? heads[heads.length - 1]!.id : bounds.max_id);
    if (bounds.first_recent !== null && BigInt(bounds.first_recent) - 1n < upTo) upTo = BigInt(bounds.first_recent) - 1n;
    return { heads, scannedUpTo: upTo.toString() };
  }

  /** Marks the events relayed (those not marked yet). */
  async markRelayed(ids: readonly string[]): Promise<void> {
    await this.db.query(`UPDATE outbox_event SET relayed_at = now() WHERE id = ANY($1::bigint[]) AND relayed_at IS NULL`, [ids]);
  }

  /**
   * Relayed events above `afterId` without a delivery record, oldest first; `stale` when relayed
   * before `staleBefore` (their job may be gone).
   */
  async relayedWithoutDelivery(afterId: string, staleBefore: Date, limit: number): Promise<(OutboxEventRef & { stale: boolean })[]> {
    const rows: (RefRow & { stale: boolean })[] = await this.db.query(
      `SELECT e.id::text AS id, e.topic, e.order_id, e.relayed_at < $2 AS stale FROM outbox_event e
        WHERE e.id > $1 AND e.relayed_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.event_id = e.id)
        ORDER BY e.id LIMIT $3`,
      [afterId, staleBefore, limit],
    );
    return rows.map((r) => ({ ...refOf(r), stale: r.stale }));
  }

  /** The lowest unrelayed event id, and the highest id of the events created before `createdBefore`. */
  async sweepBounds(createdBefore: Date): Promise<{ unrelayed: string | null; max: string | null }> {
    const [bounds]: { unrelayed: string | null; max: string | null }[] = await this.db.query(
      `SELECT (SELECT min(id)::text FROM outbox_event WHERE relayed_at IS NULL) AS unrelayed,
              (SELECT max(id)::text FROM outbox_event WHERE created_at < $1) AS max`,
      [createdBefore],
    );
    return { unrelayed: bounds?.unrelayed ?? null, max: bounds?.max ?? null };
  }
}

interface EventRowSql { id: string; topic: string; organizer_id: string | null; order_id: string | null; payload: Record<string, unknown>; created_at: Date }
const rowOf = (r: EventRowSql): OutboxEventRow => ({
  id: r.id, topic: r.topic, organizerId: r.organizer_id, orderId: r.order_id, payload: r.payload, createdAt: r.created_at,
});

/** One outbox event, or null (pruned, or never existed). */
export async function loadOutboxEvent(db: Db, id: string): Promise<OutboxEventRow | null> {
  const rows: EventRowSql[] = await db.query(
    `SELECT id::text AS id, topic, organizer_id, order_id, payload, created_at FROM outbox_event WHERE id = $1`, [id]);
  return rows[0] ? rowOf(rows[0]) : null;
}

/**
 * The event, and whether an earlier event of its order has no delivery record yet (it must wait),
 * in one round trip; null when the event does not exist.
 */
export async function loadOutboxEventForDelivery(db: Db, id: string): Promise<{ event: OutboxEventRow; blocked: boolean } | null> {
  const rows: (EventRowSql & { blocked: boolean })[] = await db.query(
    `SELECT e.id::text AS id, e.topic, e.organizer_id, e.order_id, e.payload, e.created_at,
            e.order_id IS NOT NULL AND EXISTS (
              SELECT 1 FROM outbox_event p
               WHERE p.order_id = e.order_id AND p.id < e.id
                 AND NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.event_id = p.id)) AS blocked
       FROM outbox_event e WHERE e.id = $1`,
    [id],
  );
  const row = rows[0];
  return row ? { event: rowOf(row), blocked: row.blocked } : null;
}

/**
 * {@link loadOutboxEventForDelivery} for many events in one round trip (the event jobs running at
 * once share it); events that do not exist are missing from the map.
 */
export async function loadOutboxEventsForDelivery(db: DataSource | EntityManager, ids: readonly string[]): Promise<Map<string, { event: OutboxEventRow; blocked: boolean }>> {
  const rows = await queryPrepared<EventRowSql & { blocked: boolean }>('manager' in db ? db.manager : db, loadForDeliverySql, [ids]);
  return new Map(rows.map((r) => [r.id, { event: rowOf(r), blocked: r.blocked }]));
}

// Prepared: every event job runs it (shared by the jobs running at once), so it is parsed and planned once per connection.
const loadForDeliverySql = prepared('outbox_load_for_delivery', `SELECT e.id::text AS id, e.topic, e.organizer_id, e.order_id, e.payload, e.created_at,
        e.order_id IS NOT NULL AND EXISTS (
          SELECT 1 FROM outbox_event p
           WHERE p.order_id = e.order_id AND p.id < e.id
             AND NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.event_id = p.id)) AS blocked
   FROM outbox_event e WHERE e.id = ANY($1::bigint[])`);
