import type { DataSource } from '@kassa/core/host';

/** Remaining tickets per product id: a count, or null when no quota of the product limits it. */
export type Availability = ReadonlyMap<string, number | null>;

/**
 * What is still on sale, for display and for refusing an impossible cart early. The rules are
 * core's (quota-check.ts): a product in no quota is not for sale; a quota's usage counts the live
 * positions of pending and paid orders. The binding check is core's reserveQuota when the order is
 * placed; this read takes no lock.
 */
export async function loadAvailability(ds: DataSource, eventId: string): Promise<Availability> {
  const rows = await ds.query(
    `WITH q AS (
       SELECT q.id, q.size,
              (SELECT count(*) FROM quota_product qp2
                 JOIN order_position op ON op.product_id = qp2.product_id AND NOT op.canceled
                 JOIN kassa_order o ON o.id = op.order_id AND o.status IN ('pending', 'paid')
                WHERE qp2.quota_id = q.id) AS used
         FROM quota q WHERE q.event_id = $1
     )
     SELECT qp.product_id, q.size, q.used FROM q JOIN quota_product qp ON qp.quota_id = q.id`,
    [eventId],
  ) as { product_id: string; size: number | null; used: string }[];
  const result = new Map<string, number | null>();
  for (const r of rows) {
    const left = r.size === null ? null : Math.max(0, r.size - Number(r.used));
    const prev = result.get(r.product_id);
    // The tightest quota wins; an unlimited quota never loosens a limited one.
    if (prev === undefined) result.set(r.product_id, left);
    else if (left !== null) result.set(r.product_id, prev === null ? left : Math.min(prev, left));
  }
  return result;
}

/** Remaining for one product: 0 when it is in no quota (not for sale). */
export function remainingOf(availability: Availability, productId: string): number | null {
  const v = availability.get(productId);
  return v === undefined ? 0 : v;
}
