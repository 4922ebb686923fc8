import { createHash } from 'node:crypto';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { prepared, queryPrepared, type DataSource } from '@kassa/core/host';

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

// One statement per hit: the counter is created, counted or restarted (when its window has ended)
// atomically, so concurrent hits from several server processes never lose a count. The database's
// clock decides the window, so processes with drifting clocks still agree.
const incrSql = prepared('rate_limit_incr', `
  INSERT INTO rate_limit_counter AS c (key, hits, resets_at)
  VALUES ($1, 1, clock_timestamp() + make_interval(secs => $2::double precision / 1000))
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN c.resets_at <= clock_timestamp() THEN 1 ELSE c.hits + 1 END,
    resets_at = CASE WHEN c.resets_at <= clock_timestamp() THEN EXCLUDED.resets_at ELSE c.resets_at END
  RETURNING hits, GREATEST(0, CEIL(EXTRACT(EPOCH FROM (resets_at - clock_timestamp())) * 1000))::bigint AS ttl_ms`);
const purgeSql = prepared('rate_limit_purge', "DELETE FROM rate_limit_counter WHERE resets_at < clock_timestamp() - interval '1 minute'");

/** How often one process deletes ended windows (each hit of a key restarts its own row anyway). */
const purgeEveryMs = 60_000;

/**
 * @fastify/rate-limit's store on PostgreSQL (table rate_limit_counter), for instances without Redis:
 * the plugin's own stores are in-process memory (each instance counts alone, so N instances allow N
 * times the limit and a restart forgets every count) or Redis. The store API is small (incr and
 * child), so this is one upsert. Every call is a single statement outside any transaction.
 */
export function pgRateLimitStore(dataSource: DataSource): new (options?: unknown) => FastifyRateLimitStore {
  const state = { lastPurge: 0 };
  class PgRateLimitStore implements FastifyRateLimitStore {
    // The plugin constructs a store with its options (unused here); children pass their key prefix.
    constructor(_options?: unknown, private readonly prefix = '') {}

    incr(key: string, callback: IncrCallback, timeWindow: number): void {
      queryPrepared<{ hits: string; ttl_ms: string }>(dataSource.manager, incrSql, [storedKey(this.prefix + key), timeWindow])
        .then((rows) => {
          callback(null, { current: Number(rows[0]!.hits), ttl: Number(rows[0]!.ttl_ms) });
          this.purgeNowAndThen();
        }, (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
    }

    /** A route's own counters: keyed by method and route like the plugin's Redis store does. */
    // Typed as route options, but the plugin passes its merged settings, the route under `routeInfo`.
    child(options: object): FastifyRateLimitStore {
      const info = (options as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      const route = info.method !== undefined && info.url !== undefined ? `${String(info.method)}${String(info.url)}-` : '';
      return new PgRateLimitStore(undefined, `${this.prefix}${route}`);
    }

    private purgeNowAndThen(): void {
      const now = Date.now();
      if (now - state.lastPurge < purgeEveryMs) return;
      state.lastPurge = now;
      queryPrepared(dataSource.manager, purgeSql, []).catch(() => undefined); // the next purge tries again
    }
  }
  return PgRateLimitStore as unknown as new (options?: unknown) => FastifyRateLimitStore;
}

/** Keys are routes plus addresses or emails; a hostile long one is hashed to fit the column. */
function storedKey(key: string): string {
  return key.length <= 400 ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}
