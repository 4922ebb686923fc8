import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * pgbench as a yardstick: what the same PostgreSQL on the same machine does for a trivial write,
 * so that an application figure can be read against it. Shared by the core, server and Stripe
 * plugin benchmarks, so it needs nothing but the PostgreSQL client tools (pgbench, psql).
 */

export interface PgbenchOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** The transaction pgbench repeats (pgbench script syntax: SQL plus \set lines). */
  script: string;
  /** -c: concurrent clients (default 8). */
  clients?: number;
  /** -j: pgbench worker threads (default 2). */
  threads?: number;
  /** -T: duration in seconds (default 10). */
  durationSeconds?: number;
  /** -M: simple (default), extended (what node-postgres uses) or prepared. */
  protocol?: 'simple' | 'extended' | 'prepared';
}

export interface PgbenchResult {
  tps: number;
  latencyAvgMs: number;
  transactions: number;
  failed: number;
  /** The command line, for the record in docs/performance.md. */
  command: string;
}

/** Runs pgbench with `script` (no -i initialisation: the script brings its own table). */
export async function runPgbench(opts: PgbenchOptions): Promise<PgbenchResult> {
  const url = new URL(opts.url);
  const dir = await mkdtemp(join(tmpdir(), 'kassa-pgbench-'));
  const scriptPath = join(dir, 'script.sql');
  try {
    await writeFile(scriptPath, opts.script.endsWith('\n') ? opts.script : `${opts.script}\n`);
    const args = [
      '-h', url.hostname || '127.0.0.1', '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres'),
      '-n', '-f', scriptPath, '-c', String(opts.clients ?? 8), '-j', String(opts.threads ?? 2),
      '-T', String(opts.durationSeconds ?? 10), '-M', opts.protocol ?? 'simple',
      decodeURIComponent(url.pathname.slice(1) || 'postgres'),
    ];
    const env = { ...process.env, ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}) };
    const output = await new Promise<string>((resolve, reject) => {
      execFile('pgbench', args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`pgbench failed: ${err.message}\n${stderr}`));
        else resolve(`${stdout}\n${stderr}`);
      });
    });
    return { ...parsePgbenchOutput(output), command: `pgbench ${args.join(' ').replace(scriptPath, '<script>')}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads tps, average latency and transaction counts from pgbench's report. */
export function parsePgbenchOutput(text: string): Omit<PgbenchResult, 'command'> {
  const num = (re: RegExp, what: string): number => {
    const m = re.exec(text);
    if (!m) throw new Error(`pgbench output has no ${what}:\n${text}`);
    return Number(m[1]);
  };
  return {
    tps: num(/^tps = ([\d.]+)/m, 'tps'),
    latencyAvgMs: num(/^latency average = ([\d.]+) ms/m, 'average latency'),
    transactions: num(/^number of transactions actually processed: (\d+)/m, 'transaction count'),
    failed: /^number of failed transactions: (\d+)/m.test(text) ? num(/^number of failed transactions: (\d+)/m, 'failed count') : 0,
  };
}

/**
 * pgbench's figure for a single-row insert (an amount and a currency, like our money columns)
 * into a table of its own, created before and dropped after.
 */
export async function pgbenchSingleRowInsert(url: string, opts: Omit<PgbenchOptions, 'url' | 'script'> = {}): Promise<PgbenchResult> {
  const table = `public.pgbench_insert_${randomBytes(4).toString('hex')}`;
  await psql(url, `CREATE TABLE ${table} (id bigserial PRIMARY KEY, amount bigint NOT NULL, currency char(3) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
  try {
    return await runPgbench({
      ...opts, url,
      script: `\\set amount random(1, 1000000)\nINSERT INTO ${table} (amount, currency) VALUES (:amount, 'EUR');`,
    });
  } finally {
    await psql(url, `DROP TABLE IF EXISTS ${table}`).catch(() => {});
  }
}

/** Runs one SQL command with psql (ON_ERROR_STOP), for a benchmark's own setup and teardown. */
export function psql(url: string, sql: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], (err, stdout, stderr) => {
      if (err) reject(new Error(`psql failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}
