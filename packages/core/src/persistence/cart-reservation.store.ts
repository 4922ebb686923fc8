import type { EntityManager } from 'typeorm';
import type { LockedQuota } from './quota-check';
import { prepared, queryPrepared } from './prepared-query';
import { LaneBatches, QuotaLanes, type LaneRequest } from './quota-lane';

/*
 * Cart reservations (migration 1767500000000): pretix's cart positions. A reservation is written
 * only while the quotas of its products are locked (FOR NO KEY UPDATE, quota id order: the same
 * locks, in the same order, as the placement statement and reserveQuota; the holds are then read
 * through kassa_cart_held, with a snapshot taken after the lock), and it fits only when
 * every limited quota keeps usage + unexpired reservations of other carts + this cart's wish within
 * its size. Expiry needs no job: every reader counts only rows with `expires > now`. Expired rows
 * of the same products are deleted by the next reservation, under the same lock, so the table
 * stays as small as the carts that are live.
 */

/** One product and how many of it a cart holds. */
export interface CartLineRow { productId: string; quantity: number }

/** What a reservation came to: held until `expires`, or refused with the quotas as they were under lock. */
export type ReserveRow =
  | { ok: true; expires: Date }
  | { ok: false; reason: 'unavailable'; product: string }
  | { ok: false; reason: 'full'; quotas: LockedQuota[] };

const reserveBatchSql = prepared('cart_reserve_batch', 'SELECT r.idx, r.ok, r.expires, r.bad, r.quotas FROM kassa_cart_reserve($1::jsonb, $2::timestamptz) r');

/** A look without lock: most buyers of a sold-out rush get their answer here, without queueing for the lock. */
const lookSql = prepared('cart_reserve_look_only', `WITH want AS (
      SELECT t.product_id, t.quantity FROM unnest($2::uuid[], $3::integer[]) AS t(product_id, quantity)),
    qs AS (SELECT DISTINCT qp.quota_id FROM quota_product qp WHERE qp.product_id IN (SELECT product_id FROM want)),
    need AS (
      SELECT q.id, q.name, q.size, u.used + coalesce(h.n, 0) AS used,
             array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id IN (SELECT product_id FROM want)) AS products,
             (SELECT coalesce(sum(w.quantity), 0)::integer FROM want w JOIN quota_product qp ON qp.product_id = w.product_id AND qp.quota_id = q.id) AS wanted
        FROM quota q JOIN quota_usage u ON u.quota_id = q.id
        LEFT JOIN kassa_cart_held((SELECT array_agg(quota_id) FROM qs), $4::timestamptz, $1::uuid) h ON h.quota_id = q.id
       WHERE q.id IN (SELECT quota_id FROM qs))
    SELECT EXISTS (SELECT 1 FROM need WHERE size IS NOT NULL AND wanted > size - used) AS full,
           coalesce((SELECT json_agg(json_build_object('id', id, 'name', name, 'size', size, 'used', used, 'products', products)) FROM need), '[]') AS quotas`);

interface WaitingHold extends LaneRequest {
  cartId: string;
  eventId: string;
  lines: readonly CartLineRow[];
  now: Date;
  resolve: (row: ReserveRow) => void;
}

const MAX_BATCH = 64;

/**
 * The look (lookSql) is skipped while the last reading under lock, at most this old, left this many
 * tickets more than asked for in every limited quota of the event: far from selling out, it would
 * only say yes and cost every buyer a statement. Near the end it runs again, so a sold-out rush is
 * still answered without the lock. Either way the reservation itself decides under the lock.
 */
const LOOK_SKIP_MS = 1_000;
const LOOK_SKIP_MARGIN = 500;

/**
 * Reservations go to PostgreSQL in batches per event, like orders (placement-batch.ts): on a hot
 * quota every hold needs the same row lock, and a queue of single statements pays a lock handover
 * per hold. While a reservation statement for an event is in flight, the next requests of that
 * event wait in Node and then go together to kassa_cart_reserve (migration 1767500000002), which
 * locks the quotas once and decides them in queue order, each as if it had come alone. A lone
 * buyer's request goes at once. A request whose look (without lock) finds a quota full is answered
 * from the look: a refusal on a slightly old reading is what the buyer would have got a moment
 * earlier, and it writes nothing.
 */
export class ReservationBatcher {
  private readonly batches: LaneBatches<WaitingHold>;
  /** Per product: the fewest tickets left in its limited quotas at the last reservation statement that read them, less what was asked since. */
  private readonly room = new Map<string, { left: number; at: number }>();
  private closed = false;

  constructor(
    private readonly m: EntityManager,
    /** Shared with the event's order placements (kernel.ts), which lock the same quota rows. */
    lanes: QuotaLanes = new QuotaLanes(),
  ) {
    this.batches = new LaneBatches(lanes, { name: 'reservation', take: takeHolds, run: async (batch) => { await this.run(batch); return []; } });
  }

  async reserve(cartId: string, eventId: string, lines: readonly CartLineRow[], now: Date): Promise<ReserveRow> {
    if (this.closed) throw new Error('the reservation batcher is closed');
    const wanted = lines.reduce((n, l) => n + l.quantity, 0);
    const rooms = lines.map((l) => this.room.get(l.productId));
    // A reading taken after this request's time (by a batch that started while this request was on
    // its way) is as good as an older one: either way only its age counts.
    if (rooms.every((r) => roomy(r, now, wanted))) {
      for (const r of rooms) r.left -= wanted;
    } else {
      const [look] = await queryPrepared(this.m, lookSql, [cartId, lines.map((l) => l.productId), lines.map((l) => l.quantity), now.toISOString()]);
      if (look?.full) return { ok: false, reason: 'full', quotas: look.quotas as LockedQuota[] };
    }
    return new Promise((resolve, reject) => this.batches.add(eventId, { cartId, eventId, lines, now, resolve, reject }));
  }

  private async run(batch: WaitingHold[]): Promise<void> {
    // The batch's time is its latest request's.
    const now = new Date(Math.max(...batch.map((w) => w.now.getTime())));
    const requests = batch.map((w, idx) => ({
      idx, cart_id: w.cartId, event_id: w.eventId, products: w.lines.map((l) => l.productId), quantities: w.lines.map((l) => l.quantity),
    }));
    const rows = await queryPrepared(this.m, reserveBatchSql, [JSON.stringify(requests), now.toISOString()]);
    this.noteRoom(batch, rows, now);
    batch.forEach((w, idx) => {
      const row = rows.find((r) => r.idx === idx);
      if (!row) w.reject(new Error(`reservation batch returned no row for request ${idx}`));
      else if (row.expires === null) w.resolve({ ok: false, reason: 'unavailable', product: w.lines[0]?.productId ?? '' });
      else if (typeof row.bad === 'string') w.resolve({ ok: false, reason: 'unavailable', product: row.bad });
      else if (!row.ok) w.resolve({ ok: false, reason: 'full', quotas: row.quotas as LockedQuota[] });
      else w.resolve({ ok: true, expires: new Date(row.expires as string | Date) });
    });
  }

  /**
   * Remembers, per product, how much each request of the batch saw left in the product's limited
   * quotas (as read under the lock, before its own hold), less what it took; later requests overwrite.
   */
  private noteRoom(batch: WaitingHold[], rows: Record<string, unknown>[], now: Date): void {
    for (const row of [...rows].sort((a, b) => Number(a.idx) - Number(b.idx))) {
      const quotas = row.quotas as LockedQuota[] | null | undefined;
      const w = batch[Number(row.idx)];
      if (!w || !Array.isArray(quotas)) continue;
      const took = row.ok ? w.lines.reduce((n, l) => n + l.quantity, 0) : 0;
      for (const l of w.lines) {
        const mine = quotas.filter((q) => q.size !== null && q.products.includes(l.productId));
        const left = mine.length ? Math.min(...mine.map((q) => (q.size as number) - q.used)) : Infinity;
        this.room.set(l.productId, { left: left - took, at: now.getTime() });
      }
    }
    if (this.room.size > 10_000) this.room.clear();
  }

  /** Refuses new requests and resolves once every queued one is settled. */
  close(): Promise<void> {
    this.closed = true;
    return this.batches.close();
  }
}

/** The queue's first requests, up to MAX_BATCH, as one batch. */
function takeHolds(waiting: WaitingHold[]): { batch: WaitingHold[]; rest: WaitingHold[] } {
  return { batch: waiting.slice(0, MAX_BATCH), rest: waiting.slice(MAX_BATCH) };
}

function roomy(r: { left: number; at: number } | undefined, now: Date, wanted: number): r is { left: number; at: number } {
  return r !== undefined && Math.abs(now.getTime() - r.at) < LOOK_SKIP_MS && r.left - wanted >= LOOK_SKIP_MARGIN;
}

const releaseSql = prepared('cart_release', 'DELETE FROM cart_reservation WHERE cart_id = $1');

/** Gives the cart's tickets back at once (a buyer who empties the cart). */
export async function releaseCart(m: EntityManager, cartId: string): Promise<void> {
  await queryPrepared(m, releaseSql, [cartId]);
}

const heldSql = prepared('cart_held', `SELECT product_id::text AS "productId", quantity, expires
  FROM cart_reservation WHERE cart_id = $1 AND expires > $2 ORDER BY product_id`);

/** What the cart holds now (unexpired rows only), with each row's expiry. */
export async function cartHolds(m: EntityManager, cartId: string, now: Date): Promise<(CartLineRow & { expires: Date })[]> {
  return queryPrepared(m, heldSql, [cartId, now.toISOString()]) as Promise<(CartLineRow & { expires: Date })[]>;
}
