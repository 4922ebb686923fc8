import type { EntityManager } from 'typeorm';
import type { LockedQuota } from './quota-check';
import { prepared, queryPrepared } from './prepared-query';

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

const reserveSql = prepared('cart_reserve_minute', `WITH want AS MATERIALIZED (
      SELECT t.product_id, t.quantity FROM unnest($3::uuid[], $4::integer[]) AS t(product_id, quantity)),
    -- Rounded up to the minute: the holds are counted per quota and minute of expiry (quota_hold).
    ev AS MATERIALIZED (
      SELECT e.id, date_trunc('minute', x.t) + CASE WHEN date_trunc('minute', x.t) = x.t THEN interval '0' ELSE interval '1 minute' END AS expires
        FROM event e CROSS JOIN LATERAL (SELECT $5::timestamptz + make_interval(mins => e.reservation_minutes) AS t) x WHERE e.id = $2),
    qp0 AS MATERIALIZED (
      SELECT qp.quota_id, qp.product_id FROM quota_product qp
       WHERE qp.quota_id IN (SELECT quota_id FROM quota_product WHERE product_id IN (SELECT product_id FROM want))),
    -- A look without the lock first: when the quotas are full already (most buyers of a sold-out
    -- rush), the answer is no without queueing for the lock and without a commit to flush.
    look AS MATERIALIZED (
      SELECT q.id, q.name, q.size, u.used + coalesce(h.n, 0) AS used,
             array(SELECT qp0.product_id::text FROM qp0 WHERE qp0.quota_id = q.id AND qp0.product_id IN (SELECT product_id FROM want)) AS products,
             (SELECT coalesce(sum(w.quantity), 0)::integer FROM want w JOIN qp0 ON qp0.product_id = w.product_id AND qp0.quota_id = q.id) AS wanted
        FROM quota q JOIN quota_usage u ON u.quota_id = q.id
        LEFT JOIN kassa_cart_held((SELECT array_agg(DISTINCT quota_id) FROM qp0), $5::timestamptz, $1::uuid) h ON h.quota_id = q.id
       WHERE q.id IN (SELECT quota_id FROM qp0)),
    room AS MATERIALIZED (SELECT NOT EXISTS (SELECT 1 FROM look WHERE size IS NOT NULL AND wanted > size - used) AS room),
    q AS MATERIALIZED (
      SELECT q.id, q.name, q.size, u.used FROM quota q JOIN quota_usage u ON u.quota_id = q.id
       WHERE (SELECT room FROM room) AND q.id IN (SELECT quota_id FROM qp0)
       ORDER BY q.id
         FOR NO KEY UPDATE OF q, u),
    qp AS MATERIALIZED (SELECT qp.quota_id, qp.product_id FROM quota_product qp WHERE qp.quota_id IN (SELECT id FROM q)),
    held AS MATERIALIZED (SELECT h.quota_id, h.n FROM kassa_cart_held((SELECT array_agg(id) FROM q), $5::timestamptz, $1::uuid) h),
    need AS MATERIALIZED (
      SELECT q.id, q.name, q.size, q.used + coalesce(h.n, 0) AS used,
             array(SELECT qp.product_id::text FROM qp WHERE qp.quota_id = q.id AND qp.product_id IN (SELECT product_id FROM want)) AS products,
             (SELECT coalesce(sum(w.quantity), 0)::integer FROM want w JOIN qp ON qp.product_id = w.product_id AND qp.quota_id = q.id) AS wanted
        FROM q LEFT JOIN held h ON h.quota_id = q.id),
    bad AS MATERIALIZED (
      SELECT min(w.product_id::text) AS product FROM want w
       WHERE NOT EXISTS (SELECT 1 FROM product p JOIN ev ON ev.id = p.event_id WHERE p.id = w.product_id AND p.active)
          OR NOT EXISTS (SELECT 1 FROM qp0 WHERE qp0.product_id = w.product_id)),
    ok AS MATERIALIZED (
      SELECT (SELECT product FROM bad) IS NULL AND (SELECT room FROM room)
             AND NOT EXISTS (SELECT 1 FROM need WHERE size IS NOT NULL AND wanted > size - used) AS ok),
    -- A hold is not money: its commit does not wait for the WAL flush (the lock is then held
    -- shorter). A crash may lose the last holds written; the seats are then simply free, and the
    -- placement still takes no more than the buyer's hold plus what is free.
    quick AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true) AS v WHERE (SELECT ok FROM ok)),
    gone AS (
      DELETE FROM cart_reservation r
       WHERE (SELECT ok FROM ok)
         AND ((r.cart_id = $1 AND r.product_id <> ALL($3::uuid[]))
              OR (r.cart_id <> $1 AND r.expires <= $5 AND r.product_id IN (SELECT product_id FROM qp)))
      RETURNING 1),
    put AS (
      INSERT INTO cart_reservation (cart_id, product_id, event_id, quantity, expires)
      SELECT $1, w.product_id, ev.id, w.quantity, ev.expires FROM want w CROSS JOIN ev WHERE (SELECT ok FROM ok)
      ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity, expires = excluded.expires
      RETURNING 1)
    SELECT (SELECT ok FROM ok) AS ok, (SELECT expires FROM ev) AS expires, (SELECT product FROM bad) AS bad,
           (SELECT count(*) FROM put)::integer AS written, (SELECT count(*) FROM gone)::integer AS tidied, (SELECT count(*) FROM quick)::integer AS quick,
           coalesce((SELECT json_agg(json_build_object('id', id, 'name', name, 'size', size, 'used', used, 'products', products))
                       FROM (SELECT * FROM need WHERE (SELECT room FROM room) UNION ALL SELECT * FROM look WHERE NOT (SELECT room FROM room)) x), '[]') AS quotas`);

/**
 * Holds exactly `lines` for the cart (replacing what it held before) until now + the event's
 * reservation time, if every quota has room; otherwise nothing changes. One self-committing statement.
 */
export async function reserveCart(m: EntityManager, cartId: string, eventId: string, lines: readonly CartLineRow[], now: Date): Promise<ReserveRow> {
  const [row] = await queryPrepared(m, reserveSql, [
    cartId, eventId, lines.map((l) => l.productId), lines.map((l) => l.quantity), now.toISOString(),
  ]);
  if (!row || row.expires === null) return { ok: false, reason: 'unavailable', product: lines[0]?.productId ?? '' };
  if (typeof row.bad === 'string') return { ok: false, reason: 'unavailable', product: row.bad };
  if (!row.ok) return { ok: false, reason: 'full', quotas: row.quotas as LockedQuota[] };
  return { ok: true, expires: row.expires as Date };
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
