import type { DataSource, EntityManager } from 'typeorm';
import { logAction, systemActor, type Actor } from '../audit/log-action';
import { systemClock, type Clock } from '../clock';
import { KassaError } from '../errors';
import type { Event } from '../event/event.entity';
import { openSecret, sealSecret, type SecretEnvelope } from './secret-box';
import type { SettingScope } from './setting.entity';
import type { CompiledNamespace, SettingsSchemas } from './settings-schemas';
import { findUnstorableInput } from '../validation/unstorable-input';
import {
  deleteSetting, loadSettingRows, loadSettingRowsBelow, loadSettingRowsOfKey, lockSettingsNamespace, upsertSetting, type SettingRow,
} from '../persistence/setting.store';

/** Where in the hierarchy a value is read or written. Reads at a level see every level above it. */
export type SettingsTarget =
  | { readonly scope: 'global' }
  | { readonly scope: 'organizer'; readonly organizerId: string }
  | { readonly scope: 'event'; readonly organizerId: string; readonly eventId: string };

export const globalSettings: SettingsTarget = Object.freeze({ scope: 'global' });
export const organizerSettings = (organizerId: string): SettingsTarget => ({ scope: 'organizer', organizerId });
export const eventSettings = (event: Pick<Event, 'id' | 'organizerId'>): SettingsTarget => ({ scope: 'event', organizerId: event.organizerId, eventId: event.id });

/** A secret as the display API shows it: whether one is stored, never its value. */
export interface RedactedSecret {
  readonly set: boolean;
}

/** The display view of a namespace at one level. */
export interface DisplaySettings {
  /** Effective values (defaults and inherited ones included); secrets as `{ set }`. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Which level each stored value comes from; keys absent here are defaults. */
  readonly sources: Readonly<Record<string, SettingScope>>;
}

export interface SettingsStoreOptions {
  readonly schemas: SettingsSchemas;
  /** 32-byte AES-256-GCM key (decodeSecretKey(config.KASSA_SECRET_KEY)); without it secrets cannot be written or read. */
  readonly secretKey?: Buffer | null;
  /**
   * How long `resolve` may reuse the rows it read for one namespace and level, in milliseconds.
   * 0 (the default) reads on every call. Writes through this store are visible at once; writes by
   * another store (another process) within this window. `getForDisplay` never uses the cache.
   */
  readonly cacheMs?: number;
  /** At most this many namespace-and-level entries are kept with `cacheMs` (the oldest goes first). Default 1,000. */
  readonly cacheEntries?: number;
  /** Time for the cache window (tests pass a TestClock). Default the system clock. */
  readonly clock?: Clock;
}

/** Options of one `resolve` call. */
export interface ResolveOptions {
  /**
   * Read the database, bypassing the cache: for a read-modify-write (the control panel adding a
   * webhook secret to the stored ones), which must not start from rows another process replaced.
   */
  readonly fresh?: boolean;
}

type Row = SettingRow;

interface CachedRows {
  readonly rows: readonly Row[];
  /** When the read that produced them started: the window counts from before the snapshot. */
  readonly loadedAt: number;
}

const depth: Record<SettingScope, number> = { global: 0, organizer: 1, event: 2 };

/**
 * The hierarchical settings store (global → organizer → event), one namespace per provider or
 * plugin, after pretix's SettingsSandbox. Every write is validated by ajv against the namespace's
 * JSON Schema; properties marked `"x-secret": true` are encrypted at rest (AES-256-GCM) and only
 * `resolve` (for the provider context) ever decrypts them.
 *
 * With `cacheMs`, `resolve` keeps the raw rows of a read for that long (every shop request that
 * builds a provider context would otherwise spend a round trip on them). It keeps the rows, not
 * the resolved values: secrets stay encrypted in memory and are decrypted per call (microseconds),
 * and every caller still gets its own mutable object, as without the cache.
 */
export class SettingsStore {
  private readonly cacheMs: number;
  private readonly cacheEntries: number;
  private readonly clock: Clock;
  private readonly cached = new Map<string, CachedRows>();
  /** Reads in flight per key, so concurrent misses share one query. */
  private readonly loading = new Map<string, Promise<readonly Row[]>>();
  /** Frozen effective values per cached rows (resolveFrozen): they live as long as the rows do. */
  private readonly frozenValues = new WeakMap<readonly Row[], Readonly<Record<string, unknown>>>();
  /** Bumped after every write: a read that started before a write must not be cached after it. */
  private generation = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: SettingsStoreOptions,
  ) {
    this.cacheMs = options.cacheMs ?? 0;
    this.cacheEntries = options.cacheEntries ?? 1_000;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Effective values at `target` with secrets decrypted: defaults ← global ← organizer ← event.
   * For building provider contexts only; never render or log the result. May be up to `cacheMs`
   * old (see SettingsStoreOptions); `{ fresh: true }` reads the database.
   */
  async resolve(target: SettingsTarget, namespace: string, opts: ResolveOptions = {}): Promise<Record<string, unknown>> {
    const ns = this.options.schemas.get(namespace);
    const rows = this.cacheMs > 0 && !opts.fresh
      ? await this.cachedLoad(target, namespace)
      : await this.load(this.dataSource.manager, target, namespace);
    return this.effective(ns, namespace, rows);
  }

  /**
   * `resolve`, frozen (deeply), for callers that only read: the provider context. While the rows
   * of a namespace without secrets are cached, every caller gets the same object, so a request
   * spends no copy of the defaults and rows on it. A namespace with secrets is resolved per call
   * (its secrets are never kept decrypted).
   */
  async resolveFrozen(target: SettingsTarget, namespace: string): Promise<Readonly<Record<string, unknown>>> {
    const ns = this.options.schemas.get(namespace);
    if (this.cacheMs === 0 || ns.secretKeys.size > 0) return deepFreeze(await this.resolve(target, namespace));
    const rows = await this.cachedLoad(target, namespace);
    let values = this.frozenValues.get(rows);
    if (!values) {
      values = deepFreeze(this.effective(ns, namespace, rows));
      this.frozenValues.set(rows, values);
    }
    return values;
  }

  /** Effective values for display (control panel, API): secrets are `{ set: true | false }`, never their value. */
  async getForDisplay(target: SettingsTarget, namespace: string): Promise<DisplaySettings> {
    const ns = this.options.schemas.get(namespace);
    const rows = await this.load(this.dataSource.manager, target, namespace);
    const values: Record<string, unknown> = structuredClone({ ...ns.defaults });
    const sources: Record<string, SettingScope> = {};
    for (const key of ns.secretKeys) values[key] = { set: false } satisfies RedactedSecret;
    for (const row of this.effectiveRows(ns, rows).values()) {
      values[row.key] = ns.secretKeys.has(row.key) ? ({ set: true } satisfies RedactedSecret) : row.value;
      sources[row.key] = row.scope;
    }
    return { values, sources };
  }

  /**
   * Writes some keys of a namespace at one level, validated as a whole: the effective values at
   * that level after the write must satisfy the schema, or SETTINGS_INVALID names the fields and
   * nothing is written.
   * - `null` removes the value at this level (the level above applies again).
   * - For a secret, `''` or `undefined` keeps the stored value (write-only form fields).
   * The change is logged (keys only, never values) in the same transaction.
   */
  async set(target: SettingsTarget, namespace: string, patch: Readonly<Record<string, unknown>>, opts: { actor?: Actor } = {}): Promise<void> {
    const ns = this.options.schemas.get(namespace);
    const properties = ns.definition.schema.properties as Record<string, unknown>;
    const writes = new Map<string, unknown>();
    const clears: string[] = [];
    const unknown: string[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (value === null) clears.push(key); // also allowed for keys a plugin upgrade removed
      else if (!(key in properties)) unknown.push(key);
      else if (ns.secretKeys.has(key) && value === '') continue;
      else writes.set(key, value);
    }
    if (unknown.length > 0) throw new KassaError('SETTINGS_INVALID', { namespace, detail: unknown.map((k) => `${k} is not a known setting`).join('; ') });
    // Where code is loaded from or requests are sent is the operator's decision alone (docs/security.md):
    // below the global level such a key is refused, a removal included, for every namespace.
    const instanceOnly = target.scope === 'global' ? [] : [...writes.keys(), ...clears].filter((k) => ns.instanceOnlyKeys.has(k));
    if (instanceOnly.length > 0) throw new KassaError('SETTINGS_INSTANCE_ONLY', { namespace, field: instanceOnly.sort().join(', ') });
    // Valid by the schema but refused by PostgreSQL (a NUL in a string) or unsafe as a number: named here, not a 500 later.
    const unstorable = findUnstorableInput(Object.fromEntries(writes));
    if (unstorable) throw new KassaError('SETTINGS_INVALID', { namespace, detail: `${unstorable.path || namespace} ${unstorable.problem}` });
    if ([...writes.keys()].some((k) => ns.secretKeys.has(k)) && !this.options.secretKey) throw new KassaError('SETTINGS_SECRET_KEY_MISSING');
    if (writes.size === 0 && clears.length === 0) return;

    const [scope, scopeId] = coordinates(target);
    // The cache is dropped once the transaction is over (the finally at the end), not before it
    // commits: a read in between would cache the old rows again. Also after a failure: a connection
    // lost during COMMIT leaves open whether it committed.
    await this.dataSource.transaction(async (tx) => {
      // Serialise writers of one namespace (at any level), so two validations cannot both pass
      // against a state that neither write leaves behind. Settings writes are rare; one lock is enough.
      await lockSettingsNamespace(tx, namespace);
      const patched = (rows: Row[]): Row[] => [
        ...rows.filter((r) => !(r.scope === scope && r.scope_id === scopeId && (writes.has(r.key) || clears.includes(r.key)))),
        ...[...writes].map(([key, value]) => ({ scope, scope_id: scopeId, key, value, encrypted: false })),
      ];
      const problem = ns.validate(this.effective(ns, namespace, patched(await this.load(tx, target, namespace))));
      if (problem) throw new KassaError('SETTINGS_INVALID', { namespace, detail: problem });
      // A change above must not make a level below invalid (an event's own maximum under a new
      // organizer minimum, an event enabled without the key the organizer just removed). A level
      // that was invalid already (e.g. after a plugin upgrade) does not block unrelated changes.
      for (const below of await this.levelsBelow(tx, target, namespace)) {
        const belowProblem = ns.validate(this.effective(ns, namespace, patched(below.rows)));
        if (belowProblem && ns.validate(this.effective(ns, namespace, below.rows)) === null) {
          throw new KassaError('SETTINGS_INVALID', { namespace, detail: `${below.label}: ${belowProblem}` });
        }
      }

      for (const key of clears) {
        await deleteSetting(tx, scope, scopeId, namespace, key);
      }
      for (const [key, value] of writes) {
        const secret = ns.secretKeys.has(key);
        const stored = secret ? sealSecret(this.options.secretKey as Buffer, value, aad(scope, scopeId, namespace, key)) : value;
        await upsertSetting(tx, scope, scopeId, namespace, key, stored, secret);
      }
      await logAction(tx, {
        organizerId: target.scope === 'global' ? null : target.organizerId,
        eventId: target.scope === 'event' ? target.eventId : null,
        objectType: 'settings',
        objectId: namespace,
        action: 'kassa.settings.changed',
        actor: opts.actor ?? systemActor,
        data: { namespace, scope, changed: [...writes.keys()].sort(), cleared: [...clears].sort() },
      });
    }).finally(() => this.forgetCached());
  }

  /**
   * Effective values from the rows that apply at one level: defaults, then the deepest row per key.
   * Object values are copied: cached rows are shared, and one caller's change must not reach the next.
   */
  private effective(ns: CompiledNamespace, namespace: string, rows: readonly Row[]): Record<string, unknown> {
    const values: Record<string, unknown> = structuredClone({ ...ns.defaults });
    for (const row of this.effectiveRows(ns, rows).values()) {
      const value = this.reveal(namespace, row);
      values[row.key] = !row.encrypted && typeof value === 'object' && value !== null ? structuredClone(value) : value;
    }
    return values;
  }

  /** `load` through the cache: a hit younger than cacheMs, else one shared read, kept if no write happened meanwhile. */
  private cachedLoad(target: SettingsTarget, namespace: string): Promise<readonly Row[]> {
    const key = cacheKey(target, namespace);
    const now = this.clock.now().getTime();
    const hit = this.cached.get(key);
    // A clock that went back does not make an entry live longer.
    if (hit && now >= hit.loadedAt && now - hit.loadedAt < this.cacheMs) return Promise.resolve(hit.rows);
    if (hit) this.cached.delete(key);
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const generation = this.generation;
    const read: Promise<readonly Row[]> = this.load(this.dataSource.manager, target, namespace)
      .then((rows) => {
        if (this.generation === generation) this.remember(key, { rows: Object.freeze(rows), loadedAt: now });
        return rows;
      })
      .finally(() => {
        if (this.loading.get(key) === read) this.loading.delete(key);
      });
    this.loading.set(key, read);
    return read;
  }

  private remember(key: string, entry: CachedRows): void {
    this.cached.delete(key); // re-inserted at the end: Map order is age order
    this.cached.set(key, entry);
    for (const oldest of this.cached.keys()) {
      if (this.cached.size <= this.cacheEntries) break;
      this.cached.delete(oldest);
    }
  }

  /** Every cached and in-flight read goes: the next `resolve` reads what the write left. */
  private forgetCached(): void {
    this.generation += 1;
    this.cached.clear();
    this.loading.clear();
  }

  /**
   * The organizers and events below `target` that store values in this namespace, each with the
   * rows that apply there. Events are found through the event table (an event row's scope_id is
   * only its own id), so settings of deleted events are not checked.
   */
  private async levelsBelow(manager: EntityManager, target: SettingsTarget, namespace: string): Promise<{ label: string; rows: Row[] }[]> {
    if (target.scope === 'event') return [];
    const organizerFilter = target.scope === 'organizer' ? target.organizerId : null;
    const rows = await loadSettingRowsBelow(manager, namespace, organizerFilter);
    const levels = new Map<string, { label: string; organizerId: string; eventId: string | null }>();
    for (const r of rows) {
      if (r.scope === 'organizer' && target.scope === 'global') levels.set(`o:${r.scope_id}`, { label: `organizer ${r.scope_id}`, organizerId: r.scope_id, eventId: null });
      if (r.scope === 'event') levels.set(`e:${r.scope_id}`, { label: `event ${r.scope_id}`, organizerId: r.organizer_id as string, eventId: r.scope_id });
    }
    return [...levels.values()].map((level) => ({
      label: level.label,
      rows: rows.filter((r) => r.scope === 'global'
        || (r.scope === 'organizer' && r.scope_id === level.organizerId)
        || (r.scope === 'event' && r.scope_id === level.eventId)),
    }));
  }

  private async load(manager: EntityManager, target: SettingsTarget, namespace: string): Promise<Row[]> {
    const organizerId = target.scope === 'global' ? null : target.organizerId;
    const eventId = target.scope === 'event' ? target.eventId : null;
    return loadSettingRows(manager, namespace, organizerId, eventId);
  }

  /**
   * The deepest row per key, ignoring keys the schema no longer declares (left by an older plugin
   * version) and instance-only keys stored below the global level (planted there before the schema
   * marked them, or by hand): they never take effect. The keys of a unit all come from the deepest
   * level that stores any of them, so an organizer's publishable key is never paired with the
   * instance's secret key; a key of the unit that level does not store falls back to its default.
   */
  private effectiveRows(ns: CompiledNamespace, rows: readonly Row[]): Map<string, Row> {
    const properties = ns.definition.schema.properties as Record<string, unknown>;
    const best = new Map<string, Row>();
    const unitDepth = new Map<string, number>();
    for (const row of rows) {
      if (!(row.key in properties)) continue;
      if (row.scope !== 'global' && ns.instanceOnlyKeys.has(row.key)) continue;
      const unit = ns.units.get(row.key);
      if (unit !== undefined) unitDepth.set(unit, Math.max(unitDepth.get(unit) ?? -1, depth[row.scope]));
      const current = best.get(row.key);
      if (!current || depth[row.scope] > depth[current.scope]) best.set(row.key, row);
    }
    for (const [key, row] of best) {
      const unit = ns.units.get(key);
      if (unit !== undefined && depth[row.scope] !== unitDepth.get(unit)) best.delete(key);
    }
    return best;
  }

  /**
   * The values stored at the global level itself (no defaults, nothing inherited), secrets
   * decrypted: what the operator's configuration is compared with at start.
   */
  async storedGlobalValues(namespace: string): Promise<Record<string, unknown>> {
    this.options.schemas.get(namespace);
    const rows = await this.load(this.dataSource.manager, globalSettings, namespace);
    const out: Record<string, unknown> = {};
    for (const row of rows) if (row.scope === 'global') out[row.key] = this.reveal(namespace, row);
    return out;
  }

  /**
   * Every stored value of a key the namespace's schema no longer declares, secrets decrypted, for a
   * plugin upgrade that moves the value elsewhere (then `dropRetired` removes each one).
   */
  async retiredValues(namespace: string, key: string): Promise<{ scope: SettingScope; scopeId: string; value: unknown }[]> {
    const ns = this.options.schemas.get(namespace);
    if (key in (ns.definition.schema.properties as Record<string, unknown>)) throw new KassaError('SETTINGS_INVALID', { namespace, detail: `${key} is still a setting, not a retired one` });
    const rows = await loadSettingRowsOfKey(this.dataSource.manager, namespace, key);
    return rows.map((row) => ({ scope: row.scope, scopeId: row.scope_id, value: this.reveal(namespace, row) }));
  }

  /** Removes one stored value of a retired key (see `retiredValues`), in the caller's transaction when given. */
  async dropRetired(namespace: string, key: string, scope: SettingScope, scopeId: string, manager?: EntityManager): Promise<void> {
    await deleteSetting(manager ?? this.dataSource.manager, scope, scopeId, namespace, key);
    this.forgetCached();
  }

  /**
   * Seals a plugin's own secret (one it keeps in its own table, such as a webhook signing secret)
   * with the instance's key. `binding` names the row it is stored in, so a ciphertext copied into
   * another row does not open there.
   */
  sealSecret(binding: string, value: unknown): SecretEnvelope {
    const key = this.options.secretKey;
    if (!key) throw new KassaError('SETTINGS_SECRET_KEY_MISSING');
    return sealSecret(key, value, pluginAad(binding));
  }

  /** Opens what `sealSecret` sealed under the same binding; SETTINGS_DECRYPT_FAILED otherwise. */
  openSecret(binding: string, envelope: unknown): unknown {
    const key = this.options.secretKey;
    if (!key) throw new KassaError('SETTINGS_SECRET_KEY_MISSING');
    const opened = openSecret(key, envelope, pluginAad(binding));
    if (!opened.ok) throw new KassaError('SETTINGS_DECRYPT_FAILED', { namespace: 'plugin secret', key: binding, reason: opened.reason });
    return opened.value;
  }

  private reveal(namespace: string, row: Row): unknown {
    if (!row.encrypted) return row.value;
    const key = this.options.secretKey;
    if (!key) throw new KassaError('SETTINGS_SECRET_KEY_MISSING');
    const opened = openSecret(key, row.value, aad(row.scope, row.scope_id, namespace, row.key));
    if (!opened.ok) throw new KassaError('SETTINGS_DECRYPT_FAILED', { namespace, key: row.key, reason: opened.reason });
    return opened.value;
  }
}

/** What `load` reads by: the namespace and the organizer and event of the level. */
function cacheKey(target: SettingsTarget, namespace: string): string {
  const organizerId = target.scope === 'global' ? '' : target.organizerId;
  const eventId = target.scope === 'event' ? target.eventId : '';
  return `${namespace}\u0000${organizerId}\u0000${eventId}`;
}

function coordinates(target: SettingsTarget): [SettingScope, string] {
  if (target.scope === 'global') return ['global', ''];
  if (target.scope === 'organizer') return ['organizer', target.organizerId];
  return ['event', target.eventId];
}

/** Binds a plugin's secret to the row it is kept in; never equal to a setting's binding. */
function pluginAad(binding: string): string {
  return `kassa-plugin-secret:v1:${binding}`;
}

/** Binds a ciphertext to the row it was written for. */
function aad(scope: SettingScope, scopeId: string, namespace: string, key: string): string {
  return `kassa-setting:v1:${scope}:${scopeId}:${namespace}:${key}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
