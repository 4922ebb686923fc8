import type { Availability } from '@kassa/core/host';

/** Remaining tickets per product id (core's CatalogStore.availability counts them). */
export type { Availability };

/** Remaining for one product: 0 when it is in no quota (not for sale). */
export function remainingOf(availability: Availability, productId: string): number | null {
  const v = availability.get(productId);
  return v === undefined ? 0 : v;
}
