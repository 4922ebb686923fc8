/**
 * pgbench's figure for a single-row insert on the same PostgreSQL, the yardstick beside the core
 * figures. Run: TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/pgbench-insert.ts
 * Knobs: DATABASE_URL (default the local `test` database), PGBENCH_SECONDS (default 10).
 */
import { envInt } from './lib/core-fixture';
import { pgbenchSingleRowInsert, type PgbenchResult } from './lib/pgbench';

export const benchDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function benchPgbenchInsert(): Promise<PgbenchResult[]> {
  const durationSeconds = envInt('PGBENCH_SECONDS', 10);
  const results: PgbenchResult[] = [];
  for (const protocol of ['simple', 'extended'] as const) {
    const r = await pgbenchSingleRowInsert(benchDatabaseUrl, { clients: 8, threads: 2, durationSeconds, protocol });
    console.log(`pgbench single-row insert (-M ${protocol}) ${r.tps.toFixed(1).padStart(9)} tps  latency avg ${r.latencyAvgMs.toFixed(3)} ms  (${r.transactions} tx, ${r.failed} failed)  ${r.command}`);
    results.push(r);
  }
  return results;
}

if (require.main === module) {
  benchPgbenchInsert().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
