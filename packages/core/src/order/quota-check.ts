import type { EntityManager } from 'typeorm';
import { prepared, queryPrepared } from '../db/prepared-query';
import { KassaError } from '../errors';

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
export async function reserveQuota(tx: EntityManager, productIds: readonly string[]): Promise<void> {
  if (productIds.length === 0) return;
  const distinct = [...new Set(productIds)];
  // One statement finds and locks the quotas, reads their usage and says which of our products each covers.
  const quotas = await queryPrepared<{ id: string; name: string; size: number | null; used: number; products: string[] }>(tx, lockQuotasSql, [distinct]);
  const covered = new Set(quotas.flatMap((q) => q.products));
  const homeless = distinct.find((p) => !covered.has(p));
  if (homeless) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: homeless });
  for (const q of quotas) {
    if (q.size === null) continue;
    const wanted = productIds.filter((p) => q.products.includes(p)).length;
    const left = q.size - q.used;
    if (wanted > left) {
      throw new KassaError('ORDER_QUOTA_EXCEEDED', { detail: `quota "${q.name}" has ${Math.max(left, 0)} left, ${wanted} requested` });
    }
  }
}

const lockQuotasSql = prepared('lock_quotas', `SELECT q.id, q.name, q.size, u.used,
       array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id = ANY($1::uuid[])) AS products
  FROM quota q JOIN quota_usage u ON u.quota_id = q.id
 WHERE q.id IN (SELECT quota_id FROM quota_product WHERE product_id = ANY($1::uuid[]))
 ORDER BY q.id
   FOR NO KEY UPDATE OF q, u`);

/** The product of each live position of an order, for re-checking quota when reviving it. */
export async function livePositionProducts(tx: EntityManager, orderId: string): Promise<string[]> {
  const rows: { product_id: string }[] = await tx.query(
    'SELECT product_id FROM order_position WHERE order_id = $1 AND NOT canceled ORDER BY position_no', [orderId]);
  return rows.map((r) => r.product_id);
}
