import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import { OrderPosition } from '../order/order-position.entity';
import { prepared, queryPrepared } from './prepared-query';
import { columnList } from './rows';

/**
 * Locks the quotas of the given products and refuses when adding the positions would overflow one.
 *
 * `productIds` holds one entry per position (repeat a product for several tickets) that is about
 * to start counting: the positions of an order being placed (call it before inserting them), or
 * the live positions of an expired order being revived (call it before its status changes). As in
 * pretix, a product in no quota is not for sale, and a quota's usage counts the non-canceled
 * positions of pending and paid orders; expired and canceled orders free their seats.
 *
 * The usage is the counter `quota_usage.used`, kept by triggers (migration 1764000000000) in the
 * same transaction as every change that makes a position count or stop counting, so the check
 * costs the same for the first ticket and the ten-thousandth. The quota and counter rows are locked
 * in quota id order (a stable order, so two buyers never deadlock) with FOR NO KEY UPDATE, not FOR
 * UPDATE: a transaction that changes a counter row twice re-checks its foreign key, which takes KEY
 * SHARE on the quota row, and FOR UPDATE would make that wait on us (a deadlock the tests found). The
 * next buyer waits until this transaction commits, and its own read then sees this one's positions
 * in the counter, so the quota is never oversold. Call it as late as possible in the transaction
 * (pretix's rule): the lock is held until commit, and on a hot quota that hold time is what limits
 * throughput.
 */
export async function reserveQuota(tx: EntityManager, productIds: readonly string[], now: Date): Promise<void> {
  if (productIds.length === 0) return;
  // One statement finds and locks the quotas, reads their usage (cart reservations unexpired at
  // `now` included: held tickets are not free) and says which of our products each covers.
  const quotas = await queryPrepared<LockedQuota>(tx, lockQuotasSql, [[...new Set(productIds)], now.toISOString()]);
  const refusal = quotaRefusal(productIds, quotas);
  if (refusal) throw refusal;
}

export interface LockedQuota { id: string; name: string; size: number | null; used: number; products: string[] }

/** Why the quotas cannot take positions of `productIds` (one entry per position), or null. */
export function quotaRefusal(productIds: readonly string[], quotas: LockedQuota[]): KassaError | null {
  const covered = new Set(quotas.flatMap((q) => q.products));
  const homeless = productIds.find((p) => !covered.has(p));
  if (homeless) return new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: homeless });
  for (const q of quotas) {
    if (q.size === null) continue;
    const wanted = productIds.filter((p) => q.products.includes(p)).length;
    const left = q.size - q.used;
    if (wanted > left) {
      return new KassaError('ORDER_QUOTA_EXCEEDED', { detail: `quota "${q.name}" has ${Math.max(left, 0)} left, ${wanted} requested` });
    }
  }
  return null;
}

const lockQuotasSql = prepared('lock_quotas_held', `WITH q AS MATERIALIZED (
  SELECT q.id, q.name, q.size, u.used FROM quota q JOIN quota_usage u ON u.quota_id = q.id
   WHERE q.id IN (SELECT quota_id FROM quota_product WHERE product_id = ANY($1::uuid[]))
   ORDER BY q.id
     FOR NO KEY UPDATE OF q, u),
  -- Read after the lock, with a fresh snapshot (kassa_cart_held).
  held AS MATERIALIZED (SELECT h.quota_id, h.n FROM kassa_cart_held((SELECT array_agg(id) FROM q), $2::timestamptz, NULL) h)
SELECT q.id, q.name, q.size, q.used + coalesce(h.n, 0) AS used,
       array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id = ANY($1::uuid[])) AS products
  FROM q LEFT JOIN held h ON h.quota_id = q.id
 ORDER BY q.id`);
// lockQuotasSql without the lock: a look, for deciding whether to offer a payment.
const readQuotasSql = prepared('read_quotas_held', `SELECT q.id, q.name, q.size,
       u.used + coalesce((SELECT sum(r.quantity) FROM cart_reservation r JOIN quota_product qh ON qh.product_id = r.product_id
                    WHERE qh.quota_id = q.id AND r.expires > $2), 0)::integer AS used,
       array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id = ANY($1::uuid[])) AS products
  FROM quota q JOIN quota_usage u ON u.quota_id = q.id
 WHERE q.id IN (SELECT quota_id FROM quota_product WHERE product_id = ANY($1::uuid[]))
 ORDER BY q.id`);

/** The quotas of the products (one entry per position) with their usage and unexpired cart holds, without locking them. */
export async function readQuotas(db: EntityManager, productIds: readonly string[], now: Date): Promise<LockedQuota[]> {
  return queryPrepared<LockedQuota>(db, readQuotasSql, [[...new Set(productIds)], now.toISOString()]);
}

/** A position of an order being placed, numbered by its place in the list. */
export interface NewPosition { productId: string; price: number; attendeeName: string | null }

/**
 * reserveQuota and the insert of a new order's positions in one prepared statement: on a hot
 * quota every order waits for the previous one's lock, and each round trip made while holding it
 * is paid by every buyer in the queue. The CTE `q` takes the same locks in the same order as
 * reserveQuota; the usage it returns is the latest committed (a locked row is re-read), and the
 * positions count in it only once the statement is done (the trigger is statement-level), so the
 * check compares with the usage before this order, plus the unexpired cart holds of other carts (the
 * order's own cart, `hold.cartId`, gives its hold up in the same statement). The positions are inserted only when every
 * limited quota has room; the refusal itself is worked out here from the returned quotas, by the
 * same rules as reserveQuota, and throwing rolls back whatever was written. Returns the raw rows.
 */
export async function insertPositionsWithinQuota(
  tx: EntityManager, orderId: string, positions: readonly NewPosition[], hold: { now: Date; cartId: string | null },
): Promise<Record<string, unknown>[]> {
  const productIds = positions.map((p) => p.productId);
  const rows = await queryPrepared(tx, insertWithinQuotaSql, [
    orderId, productIds, positions.map((_, i) => i + 1), positions.map((p) => p.price), positions.map((p) => p.attendeeName),
    hold.now.toISOString(), hold.cartId,
  ]);
  const refusal = quotaRefusal(productIds, (rows[0]?.quotas ?? []) as LockedQuota[]);
  if (refusal) throw refusal;
  const inserted = rows.filter((r) => r.id !== null);
  // The SQL and quotaRefusal apply the same rule; should they ever disagree, refuse rather than sell.
  if (inserted.length !== positions.length) throw new KassaError('ORDER_QUOTA_EXCEEDED', { detail: 'no quota left for these positions' });
  return inserted;
}
const insertWithinQuotaSql = prepared('insert_positions_within_quota_held', () => `WITH want AS (
      SELECT t.product_id, t.position_no, t.price, t.attendee_name
        FROM unnest($2::uuid[], $3::integer[], $4::bigint[], $5::text[]) AS t(product_id, position_no, price, attendee_name)),
    q AS MATERIALIZED (
      SELECT q.id, q.name, q.size, u.used FROM quota q JOIN quota_usage u ON u.quota_id = q.id
       WHERE q.id IN (SELECT quota_id FROM quota_product WHERE product_id = ANY($2::uuid[]))
       ORDER BY q.id
         FOR NO KEY UPDATE OF q, u),
    -- Other carts' holds, read after the lock with a fresh snapshot (kassa_cart_held).
    held AS MATERIALIZED (SELECT h.quota_id, h.n FROM kassa_cart_held((SELECT array_agg(id) FROM q), $6::timestamptz, $7::uuid) h),
    need AS (
      SELECT q.id, q.name, q.size,
             q.used + coalesce((SELECT h.n FROM held h WHERE h.quota_id = q.id), 0) AS used,
             array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id = ANY($2::uuid[])) AS products,
             (SELECT count(*)::integer FROM want w JOIN quota_product qp ON qp.product_id = w.product_id AND qp.quota_id = q.id) AS wanted
        FROM q),
    ins AS (
      INSERT INTO order_position (order_id, product_id, position_no, price, attendee_name, canceled)
      SELECT $1::uuid, w.product_id, w.position_no, w.price, w.attendee_name, false FROM want w
       WHERE NOT EXISTS (SELECT 1 FROM need WHERE size IS NOT NULL AND wanted > size - used)
      RETURNING ${columnList(OrderPosition)}),
    -- The cart's hold becomes the order's quota use: released in the same statement, under the same locks.
    freed AS (
      DELETE FROM cart_reservation WHERE cart_id = $7::uuid AND NOT EXISTS (SELECT 1 FROM need WHERE size IS NOT NULL AND wanted > size - used)
      RETURNING 1)
    SELECT n.quotas, ins.*
      FROM (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'size', size, 'used', used, 'products', products)), '[]') AS quotas FROM need) n
      LEFT JOIN ins ON true`);

/** The product of each live position of an order, for re-checking quota when reviving it. */
export async function livePositionProducts(tx: EntityManager, orderId: string): Promise<string[]> {
  const rows: { product_id: string }[] = await tx.query(
    'SELECT product_id FROM order_position WHERE order_id = $1 AND NOT canceled ORDER BY position_no', [orderId]);
  return rows.map((r) => r.product_id);
}
