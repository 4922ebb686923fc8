import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one transaction (READ COMMITTED; row locks do the serialising).
 * Never call a provider or any other external service inside `work`.
 */
export function withTransaction<T>(ds: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  return ds.transaction(work);
}
