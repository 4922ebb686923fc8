import type { DataSource } from 'typeorm';

/** Applies pending migrations (each in its own transaction) and returns their names. */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  const applied = await ds.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}
