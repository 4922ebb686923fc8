import { createHash } from 'node:crypto';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { InFlightBatcher, prepared, queryPrepared, type DataSource } from '@kassa/core/host';

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

// One statement for every hit that arrived while the previous one was in flight: each counter is
// created, counted or restarted (when its window has ended) atomically, by the number of its hits,
// so concurrent hits from several server processes never lose a count, and the hits of one key are
// numbered as if they had come one by one (the store answers each with its own count). Keys go in
// order, so two processes' statements lock shared rows in the same order. The database's clock
// decides the window, so processes with drifting clocks still agree.
const incrSql = prepared('rate_limit_incr_batch', `
  INSERT INTO rate_limit_counter AS c (key, hits, resets_at)
  SELECT h.key, h.n, clock_timestamp() + make_interval(secs => h.window_ms / 1000)
    FROM unnest($1::text[], $2::bigint[], $3::double precision[]) AS h(key, n, window_ms) ORDER BY h.key
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN c.resets_at <= clock_timestamp() THEN EXCLUDED.hits ELSE c.hits + EXCLUDED.hits END,
    resets_at = CASE WHEN c.resets_at <= clock_timestamp() THEN EXCLUDED.resets_at ELSE c.resets_at END
  RETURNING key, hits, GREATEST(0, CEIL(EXTRACT(EPOCH FROM (resets_at - clock_timestamp())) * 1000))::bigint AS ttl_ms`);
const purgeSql = prepared('rate_limit_purge', "DELETE FROM rate_limit_counter WHERE resets_at < clock_timestamp() - interval '1 minute'");

/** How often one process deletes ended windows (each hit of a key restarts its own row anyway). */
const purgeEveryMs = 60_000;

/**
 * @fastify/rate-limit's store on PostgreSQL (table rate_limit_counter), for instances without Redis:
 * the plugin's own stores are in-process memory (each instance counts alone, so N instances allow N
 * times the limit and a restart forgets every count) or Redis. The store API is small (incr and
 * child), so this is one upsert. The hits that arrive while a statement is in flight go
 * together in the next one (InFlightBatcher): a lone hit goes at once, a burst costs one statement, not one each.
 * Every statement runs outside any transaction; the table is unlogged (a crash forgets the counts, as a
 * restart of Redis without persistence would).
 */
export function pgRateLimitStore(dataSource: DataSource): new (options?: unknown) => FastifyRateLimitStore {
  const state = { lastPurge: 0 };
  const hits = new InFlightBatcher<Hit, Count>((batch) => countHits(dataSource, batch));
  class PgRateLimitStore implements FastifyRateLimitStore {
    // The plugin constructs a store with its options (unused here); children pass their key prefix.
    constructor(_options?: unknown, private readonly prefix = '') {}

    incr(key: string, callback: IncrCallback, timeWindow: number): void {
      hits.submit({ key: storedKey(this.prefix + key), windowMs: timeWindow }).then((count) => {
        callback(null, count);
        purgeNowAndThen();
      }, (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
    }

    /** A route's own counters: keyed by method and route like the plugin's Redis store does. */
    // Typed as route options, but the plugin passes its merged settings, the route under `routeInfo`.
    child(options: object): FastifyRateLimitStore {
      const info = (options as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      const route = info.method !== undefined && info.url !== undefined ? `${String(info.method)}${String(info.url)}-` : '';
      return new PgRateLimitStore(undefined, `${this.prefix}${route}`);
    }
  }

  function purgeNowAndThen(): void {
    const now = Date.now();
    if (now - state.lastPurge < purgeEveryMs) return;
    state.lastPurge = now;
    queryPrepared(dataSource.manager, purgeSql, []).catch(() => undefined); // the next purge tries again
  }
  return PgRateLimitStore as unknown as new (options?: unknown) => FastifyRateLimitStore;
}

/** Keys are routes plus addresses or emails; a hostile long one is hashed to fit the column. */
function storedKey(key: string): string {
  return key.length <= 400 ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

interface Hit { key: string; windowMs: number }
interface Count { current: number; ttl: number }

/** Counts a batch of hits in one statement; a key hit several times is numbered in arrival order. */
async function countHits(dataSource: DataSource, hits: Hit[]): Promise<Count[]> {
  const byKey = new Map<string, { windowMs: number; n: number }>();
  for (const h of hits) {
    const entry = byKey.get(h.key);
    if (entry) entry.n += 1;
    else byKey.set(h.key, { windowMs: h.windowMs, n: 1 });
  }
  const keys = [...byKey.keys()];
  const rows = await queryPrepared<{ key: string; hits: string; ttl_ms: string }>(dataSource.manager, incrSql, [
    keys, keys.map((k) => byKey.get(k)!.n), keys.map((k) => byKey.get(k)!.windowMs),
  ]);
  // Each key's hits in this statement are the last n of its count: the first of them gets hits − n + 1.
  const next = new Map(rows.map((r) => [r.key, { current: Number(r.hits) - byKey.get(r.key)!.n, ttl: Number(r.ttl_ms) }]));
  return hits.map((h) => {
    const row = next.get(h.key);
    if (!row) throw new Error(`rate-limit counter ${h.key} was not returned`);
    row.current += 1;
    return { current: row.current, ttl: row.ttl };
  });
}
