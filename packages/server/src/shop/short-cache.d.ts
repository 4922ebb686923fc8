/**
 * A tiny time-boxed cache for the hot, read-only parts of the shop (event lookup, product list,
 * availability). A buyer may see availability up to `ttlMs` old; the binding quota check happens
 * under lock when the order is placed, so staleness can only make the page optimistic, never
 * oversell. One instance per app: no module-level state.
 */
export declare class ShortCache<V> {
    private readonly ttlMs;
    private readonly maxEntries;
    private readonly entries;
    constructor(ttlMs: number, maxEntries?: number);
    /** The cached value, or `load()`'s; concurrent callers share one load. Failed loads are not kept. */
    get(key: string, load: () => Promise<V>): Promise<V>;
    /** Forget a key (after this process changed what it caches, e.g. placed an order). */
    delete(key: string): void;
}
