import { randomUUID } from 'node:crypto';
import { TestClock, createTestDatabase, type TestDatabase } from '@kassa/testing';
import { SettingsStore, eventSettings, loadPlugins, type DataSource, type SettingsTarget } from '../../src/host';

const loaded = loadPlugins([]);
const ns = 'payment.manual';

/**
 * The data source with the store's reads of the setting table counted (its writes go through
 * transactions, which are not). `holdNext()` keeps the next read's rows back until released, after
 * its query ran: a slow read that a write overtakes.
 */
function instrumented(ds: DataSource) {
  let held: { ran: () => void; gate: Promise<void> } | null = null;
  const probe = {
    reads: 0,
    holdNext(): { ran: Promise<void>; release: () => void } {
      let ran!: () => void;
      let release!: () => void;
      const ranPromise = new Promise<void>((resolve) => { ran = resolve; });
      held = { ran, gate: new Promise<void>((resolve) => { release = resolve; }) };
      return { ran: ranPromise, release };
    },
    dataSource: ds,
  };
  const forward = <T extends object>(target: T, prop: string | symbol): unknown => {
    const value: unknown = Reflect.get(target, prop, target);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  const manager = new Proxy(ds.manager, {
    get(target, prop) {
      if (prop !== 'query') return forward(target, prop);
      return async (sql: string, params?: unknown[]): Promise<unknown> => {
        const rows: unknown = await target.query(sql, params);
        if (!/FROM setting\b/.test(sql)) return rows;
        probe.reads += 1;
        const hold = held;
        held = null;
        if (hold) {
          hold.ran();
          await hold.gate;
        }
        return rows;
      };
    },
  });
  probe.dataSource = new Proxy(ds, { get: (target, prop) => (prop === 'manager' ? manager : forward(target, prop)) });
  return probe;
}

describe('SettingsStore read cache (cacheMs) on PostgreSQL', () => {
  let db: TestDatabase;
  let clock: TestClock;
  /** Another process: its own store on the same database, without a cache. */
  let otherProcess: SettingsStore;
  const org = randomUUID();
  const newEvent = (): SettingsTarget => eventSettings({ id: randomUUID(), organizerId: org });
  const fee = async (store: SettingsStore, target: SettingsTarget): Promise<unknown> => (await store.resolve(target, ns))._feeAbs;

  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 4 });
    otherProcess = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas });
  });
  afterAll(async () => { await db.destroy(); });
  beforeEach(() => { clock = new TestClock('2030-05-01T10:00:00Z'); });

  const setup = (options: { cacheMs?: number; cacheEntries?: number } = { cacheMs: 1000 }) => {
    const probe = instrumented(db.dataSource);
    return { probe, store: new SettingsStore(probe.dataSource, { schemas: loaded.settingsSchemas, clock, ...options }) };
  };

  it('without cacheMs (the default) reads on every resolve and sees another process\'s write at once', async () => {
    const { probe, store } = setup({});
    const ev = newEvent();
    await otherProcess.set(ev, ns, { _feeAbs: 1 });
    expect(await fee(store, ev)).toBe(1);
    await otherProcess.set(ev, ns, { _feeAbs: 2 });
    expect(await fee(store, ev)).toBe(2);
    await Promise.all([fee(store, ev), fee(store, ev)]);
    expect(probe.reads).toBe(4);
  });

  it('answers repeated resolves within the window with one query, each level and namespace apart', async () => {
    const { probe, store } = setup();
    const [a, b] = [newEvent(), newEvent()];
    await otherProcess.set(a, ns, { _feeAbs: 10 });
    await otherProcess.set(b, ns, { _feeAbs: 20 });
    expect([await fee(store, a), await fee(store, b)]).toEqual([10, 20]);
    clock.advance({ ms: 999 });
    expect([await fee(store, a), await fee(store, b), await fee(store, a)]).toEqual([10, 20, 10]);
    expect(probe.reads).toBe(2);
    expect(await store.resolve(a, 'payment.free')).toMatchObject({ _enabled: true });
    expect(probe.reads).toBe(3);
  });

  it('lets concurrent misses for one key share one query', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await otherProcess.set(ev, ns, { _feeAbs: 7 });
    expect(await Promise.all([fee(store, ev), fee(store, ev), fee(store, ev), fee(store, ev)])).toEqual([7, 7, 7, 7]);
    expect(probe.reads).toBe(1);
  });

  it('shows a write through the same store on the very next resolve', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await store.set(ev, ns, { _feeAbs: 1 });
    expect(await fee(store, ev)).toBe(1);
    await store.set(ev, ns, { _feeAbs: 2 });
    expect(await fee(store, ev)).toBe(2);
    await store.set(ev, ns, { _feeAbs: null });
    expect(await fee(store, ev)).toBe(0);
    expect(probe.reads).toBe(3);
  });

  it('shows another process\'s write once the window has passed', async () => {
    const { store } = setup();
    const ev = newEvent();
    await otherProcess.set(ev, ns, { _feeAbs: 1 });
    expect(await fee(store, ev)).toBe(1);
    await otherProcess.set(ev, ns, { _feeAbs: 2 });
    clock.advance({ ms: 999 });
    expect(await fee(store, ev)).toBe(1); // the documented delay: up to cacheMs in another process
    clock.advance({ ms: 1 });
    expect(await fee(store, ev)).toBe(2);
  });

  it('does not cache a read that a write overtook (it started before the write, ended after it)', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await store.set(ev, ns, { _feeAbs: 1 });
    const slow = probe.holdNext();
    const before = fee(store, ev);
    await slow.ran; // its query saw 1
    await store.set(ev, ns, { _feeAbs: 2 });
    slow.release();
    expect(await before).toBe(1); // concurrent with the write: either value is fine
    expect(await fee(store, ev)).toBe(2);
  });

  it('does not let a resolve that starts after a write join a read that started before it', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await store.set(ev, ns, { _feeAbs: 1 });
    const slow = probe.holdNext();
    const before = fee(store, ev);
    await slow.ran;
    await store.set(ev, ns, { _feeAbs: 2 });
    const after = fee(store, ev);
    slow.release();
    expect([await before, await after]).toEqual([1, 2]);
    expect(probe.reads).toBe(2);
  });

  it('drops the cache when the write has committed, not before: a read while the write waits is not kept', async () => {
    const { store } = setup();
    const ev = newEvent();
    await store.set(ev, ns, { _feeAbs: 1 });
    // Another writer of the namespace holds its lock, so this write waits inside its transaction.
    const blocker = db.dataSource.createQueryRunner();
    await blocker.connect();
    try {
      await blocker.startTransaction();
      await blocker.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`setting:${ns}`]);
      const write = store.set(ev, ns, { _feeAbs: 2 });
      expect(await fee(store, ev)).toBe(1); // not committed yet
      await blocker.commitTransaction();
      await write;
    } finally {
      await blocker.release();
    }
    expect(await fee(store, ev)).toBe(2);
  });

  it('never uses the cache for getForDisplay (what organizers see is what they saved), nor fills it', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await otherProcess.set(ev, ns, { _feeAbs: 1 });
    expect(await fee(store, ev)).toBe(1);
    await otherProcess.set(ev, ns, { _feeAbs: 2 });
    expect((await store.getForDisplay(ev, ns)).values._feeAbs).toBe(2);
    expect(await fee(store, ev)).toBe(1); // resolve still within its window

    const shown = newEvent();
    await store.getForDisplay(shown, ns);
    await store.getForDisplay(shown, ns);
    const readsBefore = probe.reads;
    await fee(store, shown);
    expect(probe.reads).toBe(readsBefore + 1);
  });

  it('reads the database for { fresh: true } (a read-modify-write)', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await otherProcess.set(ev, ns, { _feeAbs: 1 });
    expect(await fee(store, ev)).toBe(1);
    await otherProcess.set(ev, ns, { _feeAbs: 2 });
    expect((await store.resolve(ev, ns, { fresh: true }))._feeAbs).toBe(2);
    expect(probe.reads).toBe(2);
  });

  it('keeps at most cacheEntries entries, dropping the oldest', async () => {
    const { probe, store } = setup({ cacheMs: 1000, cacheEntries: 2 });
    const [a, b, c] = [newEvent(), newEvent(), newEvent()];
    for (const ev of [a, b, c]) await fee(store, ev);
    await fee(store, c);
    await fee(store, b);
    expect(probe.reads).toBe(3);
    await fee(store, a);
    expect(probe.reads).toBe(4);
  });

  it('hands every caller its own values: changing a resolved array does not change the next result', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await otherProcess.set(ev, ns, { _restrictedCountries: ['DE'] });
    const first = await store.resolve(ev, ns);
    (first._restrictedCountries as string[]).push('FR');
    expect((await store.resolve(ev, ns))._restrictedCountries).toEqual(['DE']);
    expect(probe.reads).toBe(1);
  });

  it('resolveFrozen: one frozen object while the rows are cached, a new one after a write; never mutable', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await store.set(ev, ns, { _restrictedCountries: ['DE'] });
    const first = await store.resolveFrozen(ev, ns);
    expect(await store.resolveFrozen(ev, ns)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first._restrictedCountries)).toBe(true);
    expect(() => (first._restrictedCountries as string[]).push('FR')).toThrow(/not extensible/);
    expect(probe.reads).toBe(1);
    // resolve still hands out its own mutable copy of the same rows.
    const own = await store.resolve(ev, ns);
    (own._restrictedCountries as string[]).push('FR');
    expect(first._restrictedCountries).toEqual(['DE']);
    await store.set(ev, ns, { _restrictedCountries: ['AT'] });
    const after = await store.resolveFrozen(ev, ns);
    expect(after).not.toBe(first);
    expect(after._restrictedCountries).toEqual(['AT']);
  });

  it('resolveFrozen without a cache reads every time and shares nothing', async () => {
    const { probe, store } = setup({});
    const ev = newEvent();
    const [a, b] = [await store.resolveFrozen(ev, ns), await store.resolveFrozen(ev, ns)];
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
    expect(probe.reads).toBe(2);
  });

  it('does not stretch the window when the clock goes back', async () => {
    const { probe, store } = setup();
    const ev = newEvent();
    await fee(store, ev);
    clock.advance({ ms: -1 });
    await fee(store, ev);
    expect(probe.reads).toBe(2);
  });
});
