import type { EntityManager } from 'typeorm';
import { KassaError } from '../errors';

/**
 * Locks the quotas of the given products and refuses when adding the positions would overflow one.
 *
 * `productIds` holds one entry per position (repeat a product for several tickets) of the order
 * `orderId`, whose own positions are never counted as usage (it may already be written). As in pretix,
 * a product in no quota is not for sale, and a quota's usage counts the non-canceled positions of
 * pending and paid orders; expired and canceled orders free their seats. The quota rows are locked
 * with SELECT … FOR UPDATE in id order (a stable order, so two buyers never deadlock) and the usage
 * is counted after the lock is held: under READ COMMITTED that count sees every order committed by
 * the previous holder, so the quota is never oversold. Call it as late as possible in the
 * transaction (pretix's rule): the lock is held until commit, and on a hot quota that hold time is
 * what limits throughput.
 */
export async function reserveQuota(tx: EntityManager, productIds: readonly string[], orderId: string): Promise<void> {
  if (productIds.length === 0) return;
  const distinct = [...new Set(productIds)];
  // One statement finds and locks the quotas and says which of our products each one covers.
  const quotas: { id: string; name: string; size: number | null; products: string[] }[] = await tx.query(
    `SELECT q.id, q.name, q.size,
            array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id = ANY($1::uuid[])) AS products
       FROM quota q
      WHERE q.id IN (SELECT quota_id FROM quota_product WHERE product_id = ANY($1::uuid[]))
      ORDER BY q.id
        FOR UPDATE OF q`,
    [distinct],
  );
  const covered = new Set(quotas.flatMap((q) => q.products));
  const homeless = distinct.find((p) => !covered.has(p));
  if (homeless) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: homeless });
  const limited = quotas.filter((q) => q.size !== null);
  if (limited.length === 0) return;

  const usage: { quota_id: string; used: string }[] = await tx.query(
    `SELECT qp.quota_id, count(*) AS used
       FROM quota_product qp
       JOIN order_position op ON op.product_id = qp.product_id AND NOT op.canceled
       JOIN kassa_order o ON o.id = op.order_id AND o.status IN ('pending', 'paid') AND o.id <> $2
      WHERE qp.quota_id = ANY($1::uuid[])
      GROUP BY qp.quota_id`,
    [limited.map((q) => q.id), orderId],
  );
  const used = new Map(usage.map((u) => [u.quota_id, Number(u.used)]));
  for (const q of limited) {
    const wanted = productIds.filter((p) => q.products.includes(p)).length;
    const left = (q.size ?? 0) - (used.get(q.id) ?? 0);
    if (wanted > left) {
      throw new KassaError('ORDER_QUOTA_EXCEEDED', { detail: `quota "${q.name}" has ${Math.max(left, 0)} left, ${wanted} requested` });
    }
  }
}

/** The product of each live position of an order, for re-checking quota when reviving it. */
export async function livePositionProducts(tx: EntityManager, orderId: string): Promise<string[]> {
  const rows: { product_id: string }[] = await tx.query(
    'SELECT product_id FROM order_position WHERE order_id = $1 AND NOT canceled ORDER BY position_no', [orderId]);
  return rows.map((r) => r.product_id);
}
