import type { EntityManager } from 'typeorm';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine } from '../payment/payment.machine';

/*
 * The rows an order change reads and writes (order-change.ts): its fingerprint, the positions and
 * products involved, position updates, and the locked quotas with their usage.
 */

/** A position as the change reads it (price as text: bigint). */
export interface LivePosition { id: string; product_id: string; price: string; position_no: number; canceled: boolean }

/** What the change fingerprint hashes: the total, the status and the positions; null when the order does not exist. */
export async function readFingerprintSource(db: Pick<EntityManager, 'query'>, orderId: string): Promise<{ total: string; status: string; positions: string } | null> {
  const [row] = await db.query(
    `SELECT o.total::text AS total, o.status,
            coalesce(string_agg(p.id || ':' || p.product_id || ':' || p.price || ':' || p.canceled, ',' ORDER BY p.position_no, p.id), '') AS positions
       FROM kassa_order o LEFT JOIN order_position p ON p.order_id = o.id WHERE o.id = $1 GROUP BY o.id`,
    [orderId],
  ) as { total: string; status: string; positions: string }[];
  return row ?? null;
}

/** Every position of the order (live and canceled), by position number. */
export async function readPositions(tx: EntityManager, orderId: string): Promise<LivePosition[]> {
  return tx.query('SELECT id, product_id, price::text AS price, position_no, canceled FROM order_position WHERE order_id = $1 ORDER BY position_no', [orderId]);
}

/** Those of `productIds` that are products of the event. */
export async function readEventProducts(tx: EntityManager, eventId: string, productIds: string[]): Promise<{ id: string; price: string; name: string }[]> {
  if (productIds.length === 0) return [];
  return tx.query('SELECT id, price::text AS price, name FROM product WHERE event_id = $1 AND id = ANY($2::uuid[])', [eventId, productIds]);
}

export async function cancelPosition(tx: EntityManager, positionId: string): Promise<void> {
  await tx.query('UPDATE order_position SET canceled = true WHERE id = $1', [positionId]);
}

export async function setPositionPrice(tx: EntityManager, positionId: string, price: number): Promise<void> {
  await tx.query('UPDATE order_position SET price = $2 WHERE id = $1', [positionId, price]);
}

export async function setPositionProduct(tx: EntityManager, positionId: string, productId: string, price: number): Promise<void> {
  await tx.query('UPDATE order_position SET product_id = $2, price = $3 WHERE id = $1', [positionId, productId, price]);
}

/** Adds a live position; returns its id. */
export async function addPosition(
  tx: EntityManager, orderId: string, p: { productId: string; positionNo: number; price: number; attendeeName: string | null },
): Promise<string> {
  const [row] = await tx.query(
    `INSERT INTO order_position (order_id, product_id, position_no, price, attendee_name, canceled)
     VALUES ($1, $2, $3, $4, $5, false) RETURNING id`,
    [orderId, p.productId, p.positionNo, p.price, p.attendeeName],
  ) as { id: string }[];
  return row!.id;
}

/** The newest open (created or pending) payment of the order, if any. */
export async function findLastOpenPayment(m: EntityManager, orderId: string): Promise<OrderPayment | null> {
  return m.findOne(OrderPayment, { where: paymentMachine.statesOf('open').map((state) => ({ orderId, state })), order: { localId: 'DESC' } });
}

/** A quota with its usage and which of the asked products it covers. */
export interface QuotaUse { id: string; name: string; size: number | null; used: number; products: string[] }

/** Locks the quotas of the products and their usage counters, in quota id order (reserveQuota's order). */
export async function lockQuotasOf(tx: EntityManager, productIds: string[]): Promise<QuotaUse[]> {
  if (productIds.length === 0) return [];
  const rows: QuotaUse[] = await tx.query(
    `SELECT q.id, q.name, q.size, u.used,
            array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id = ANY($1::uuid[])) AS products
       FROM quota q JOIN quota_usage u ON u.quota_id = q.id
      WHERE q.id IN (SELECT quota_id FROM quota_product WHERE product_id = ANY($1::uuid[]))
      ORDER BY q.id
        FOR NO KEY UPDATE OF q, u`,
    [productIds],
  );
  return rows.map((r) => ({ ...r, used: Number(r.used) }));
}

/**
 * The current usage counters of the quotas, and the tickets carts hold in each unexpired at `now`
 * (kassa_cart_held: read with a fresh snapshot, so call it with the quotas locked).
 */
export async function readQuotaUsage(tx: EntityManager, quotaIds: string[], now: Date): Promise<{ quota_id: string; used: number; held: number }[]> {
  const rows: { quota_id: string; used: string | number; held: string | number }[] = await tx.query(
    `SELECT u.quota_id, u.used, coalesce(h.n, 0) AS held
       FROM quota_usage u LEFT JOIN kassa_cart_held($1::uuid[], $2::timestamptz, NULL) h ON h.quota_id = u.quota_id
      WHERE u.quota_id = ANY($1::uuid[])`,
    [quotaIds, now.toISOString()],
  );
  return rows.map((r) => ({ quota_id: r.quota_id, used: Number(r.used), held: Number(r.held) }));
}
