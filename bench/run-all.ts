/**
 * Runs the core benchmarks one after the other and prints the figures with what they were measured
 * on (`pnpm bench`). Not part of the test run. Figures go to docs/performance.md by hand, with the
 * date, the machine and the load printed here.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { benchConfirmations } from './core-confirmations';
import { benchHotQuota } from './core-hot-quota';
import { benchDatabaseUrl, benchPgbenchInsert } from './pgbench-insert';

function postgresVersion(): string {
  try {
    return execFileSync('psql', ['-X', '-At', '-d', benchDatabaseUrl, '-c', 'SHOW server_version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const load = loadavg().map((n) => n.toFixed(2)).join(' ');
  console.log(`# Kassa benchmarks, ${new Date().toISOString()}`);
  console.log(`# ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, PostgreSQL ${postgresVersion()}, load average ${load}`);
  await benchPgbenchInsert();
  await benchConfirmations();
  await benchHotQuota();
  console.log(`# load average after: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
