import type { DataSource } from 'typeorm';
import type { Clock } from '../clock';
import { CatalogueCache } from './catalogue-cache';
import { PlacementBatcher } from './placement-batch';
import { ReservationBatcher } from './cart-reservation.store';
import { QuotaLanes } from './quota-lane';

/**
 * The per-database state of the persistence kernel: the placement batcher (one queue per event)
 * and the catalogue cache. Made by createKassaCore for its DataSource and closed by
 * KassaCore.close(); nothing per DataSource lives in module scope. Prepared statements are
 * module constants: their texts depend only on the code, and PostgreSQL keeps the plans per
 * connection.
 */
export interface Persistence {
  readonly dataSource: DataSource;
  readonly placements: PlacementBatcher;
  /** Cart reservations, batched per event like placements. */
  readonly reservations: ReservationBatcher;
  readonly catalogue: CatalogueCache;
  /** Refuses new placements, waits for the queued ones to settle and drops the cache. Does not close the DataSource. */
  close(): Promise<void>;
}

export function createPersistence(dataSource: DataSource, clock?: Clock): Persistence {
  // The clock decides which cart reservations have run out when a batch of orders is placed.
  // Placements and reservations of one event lock the same quota rows: one lane per event for both.
  const lanes = new QuotaLanes();
  const placements = new PlacementBatcher(dataSource.manager, () => clock?.now() ?? new Date(), lanes);
  const reservations = new ReservationBatcher(dataSource.manager, lanes);
  const catalogue = new CatalogueCache();
  return Object.freeze({
    dataSource,
    placements,
    reservations,
    catalogue,
    async close(): Promise<void> {
      await Promise.all([placements.close(), reservations.close()]);
      catalogue.clear();
    },
  });
}
