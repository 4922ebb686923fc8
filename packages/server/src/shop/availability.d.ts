import type { DataSource } from '@kassa/core';
/** Remaining tickets per product id: a count, or null when no quota of the product limits it. */
export type Availability = ReadonlyMap<string, number | null>;
/**
 * What is still on sale, for display and for refusing an impossible cart early. The rules are
 * core's (quota-check.ts): a product in no quota is not for sale; a quota's usage counts the live
 * positions of pending and paid orders. The binding check is core's reserveQuota when the order is
 * placed; this read takes no lock.
 */
export declare function loadAvailability(ds: DataSource, eventId: string): Promise<Availability>;
/** Remaining for one product: 0 when it is in no quota (not for sale). */
export declare function remainingOf(availability: Availability, productId: string): number | null;
