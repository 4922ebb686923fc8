import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one transaction (READ COMMITTED; row locks do the serialising).
 * Never call a provider or any other external service inside `work`.
 */
export function withTransaction<T>(ds: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  return ds.transaction(work);
}

/**
 * Runs `work` after a SAVEPOINT: when it throws, only its writes are rolled back and the
 * transaction goes on (the error is returned, not thrown, so the caller decides after its commit).
 */
export async function withSavepoint<T>(tx: EntityManager, name: string, work: () => Promise<T>): Promise<{ result: T } | { error: unknown }> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`savepoint name ${name} is not a plain identifier`);
  await tx.query(`SAVEPOINT ${name}`);
  try {
    return { result: await work() };
  } catch (error) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    return { error };
  }
}
