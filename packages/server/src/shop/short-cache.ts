/**
 * A tiny time-boxed cache for the hot, read-only parts of the shop (event lookup, product list,
 * availability). A buyer may see availability up to `ttlMs` old; the binding quota check happens
 * under lock when the order is placed, so staleness can only make the page optimistic, never
 * oversell. One instance per app: no module-level state.
 */
export class ShortCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();

  constructor(private readonly ttlMs: number, private readonly maxEntries = 1_000) {}

  /** The cached value, or `load()`'s; concurrent callers share one load. Failed loads are not kept. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const value = load();
    const entry = { value, expires: now + this.ttlMs };
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  /** Forget a key (after this process changed what it caches, e.g. placed an order). */
  delete(key: string): void {
    this.entries.delete(key);
  }
}
