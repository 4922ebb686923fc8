import type { DataSource, MigrationInterface } from '@kassa/core/host';
import { progressBar } from './cli-output';

export interface MigrationStatus {
  /** Every migration of core, the shop and the plugins, in the order the composition runs them. */
  all: string[];
  applied: string[];
  pending: string[];
}

const nameOf = (m: MigrationInterface): string => m.name ?? m.constructor.name;
const timestampOf = (name: string): number => Number(/\d{13}$/.exec(name)?.[0] ?? 0);

/** Which of the DataSource's migrations (the composition's combined list) are applied and which are pending. */
export async function migrationStatus(ds: DataSource): Promise<MigrationStatus> {
  const table = ds.options.migrationsTableName ?? 'migrations';
  const [{ exists }] = (await ds.query('SELECT to_regclass($1) IS NOT NULL AS exists', [table])) as [{ exists: boolean }];
  const done = new Set(exists ? ((await ds.query(`SELECT name FROM "${table}"`)) as { name: string }[]).map((r) => r.name) : []);
  // In TypeORM's order: by the timestamp that ends each name (the combined list is not sorted).
  const all = ds.migrations.map(nameOf).sort((a, b) => timestampOf(a) - timestampOf(b));
  return { all, applied: all.filter((n) => done.has(n)), pending: all.filter((n) => !done.has(n)) };
}

/**
 * Applies the pending migrations (each in its own transaction, as at start-up) with a progress bar
 * and returns their names. The bar advances as each migration's `up` returns.
 */
export async function applyMigrations(ds: DataSource, pending: readonly string[]): Promise<string[]> {
  const bar = progressBar(pending.length);
  for (const migration of ds.migrations) {
    if (!pending.includes(nameOf(migration))) continue;
    const up = migration.up.bind(migration);
    migration.up = async (runner) => {
      bar.step(nameOf(migration));
      await up(runner);
      bar.done();
    };
  }
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    bar.finish();
  }
}

/** The `migrate` report: applied ones first, then what is (or, with --dry-run, would be) applied. */
export function describeStatus(status: MigrationStatus): string[] {
  const lines = [`${status.all.length} migrations (core, shop and plugins): ${status.applied.length} applied, ${status.pending.length} pending`];
  for (const name of status.applied) lines.push(`  applied  ${name}`);
  for (const name of status.pending) lines.push(`  pending  ${name}`);
  return lines;
}
