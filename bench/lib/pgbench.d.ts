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
export declare function runPgbench(opts: PgbenchOptions): Promise<PgbenchResult>;
/** Reads tps, average latency and transaction counts from pgbench's report. */
export declare function parsePgbenchOutput(text: string): Omit<PgbenchResult, 'command'>;
/**
 * pgbench's figure for a single-row insert (an amount and a currency, like our money columns)
 * into a table of its own, created before and dropped after.
 */
export declare function pgbenchSingleRowInsert(url: string, opts?: Omit<PgbenchOptions, 'url' | 'script'>): Promise<PgbenchResult>;
/** Runs one SQL command with psql (ON_ERROR_STOP), for a benchmark's own setup and teardown. */
export declare function psql(url: string, sql: string): Promise<string>;
