import { QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';

/**
 * A plugin's handle on the database, for its own tables only (core's tables are reached through
 * the payments port). Plain SQL with `$1` parameters; no ORM, so a plugin needs no TypeORM.
 */
export interface PluginDb {
  /** Runs one statement and returns its rows (also for `… RETURNING`; none for a plain UPDATE). */
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs a hot statement as a named prepared statement (parsed and planned once per connection).
   * The name must be unique per text across plugins: prefix it with the plugin's name.
   */
  queryPrepared<R extends object = Record<string, unknown>>(stmt: PluginStatement, params: readonly unknown[]): Promise<R[]>;
  /** Runs `work` in one transaction (READ COMMITTED); never call a provider inside it. Inside one, `work` joins it. */
  transaction<T>(work: (tx: PluginDb) => Promise<T>): Promise<T>;
}

export interface PluginStatement {
  readonly name: string;
  readonly text: string;
}

/** A plain migration of a plugin's own tables; `name` ends with its 13-digit timestamp and never changes. */
export interface PluginMigration {
  readonly name: string;
  up(db: PluginDb): Promise<void>;
  down(db: PluginDb): Promise<void>;
}

interface PgClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

// Which transaction a handle runs in, for host code (the settings adapter) that joins it.
const managers = new WeakMap<PluginDb, EntityManager>();

/** The host's side: a PluginDb over a data source (or a transaction's manager). */
export function createPluginDb(source: DataSource | EntityManager): PluginDb {
  const manager = 'manager' in source && !('queryRunner' in source && source.queryRunner) ? (source as DataSource).manager : (source as EntityManager);
  return wrap(manager);
}

/** The transaction a handle belongs to (host code only); undefined for a pooled handle. */
export function managerOf(db: PluginDb | undefined): EntityManager | undefined {
  if (!db) return undefined;
  const m = managers.get(db);
  return m?.queryRunner ? m : undefined;
}

function wrap(m: EntityManager): PluginDb {
  const run = async <R extends object>(text: string, values: readonly unknown[], name?: string): Promise<R[]> => {
    const runner = m.queryRunner;
    // Inside a transaction: its connection; outside: pg's pool checks one out per statement.
    const client = runner && !runner.isReleased
      ? (await runner.connect()) as PgClient
      : (m.connection.driver as unknown as { master: PgClient }).master;
    try {
      return (await client.query({ ...(name ? { name } : {}), text, values: [...values] })).rows as R[];
    } catch (err) {
      throw new QueryFailedError(text, [...values], err as Error);
    }
  };
  const db: PluginDb = {
    query: (sql, params = []) => run(sql, params),
    queryPrepared: (stmt, params) => run(stmt.text, params, stmt.name),
    transaction: (work) => (m.queryRunner?.isTransactionActive ? work(db) : m.transaction((tx) => work(wrap(tx)))),
  };
  managers.set(db, m);
  return db;
}

/** A PluginDb over a migration's query runner (its transaction). */
export function pluginDbOfRunner(q: QueryRunner): PluginDb {
  return wrap(q.manager);
}
