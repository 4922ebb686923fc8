import { QueryFailedError, type EntityManager } from 'typeorm';

/**
 * A hot statement sent as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of on every call. On the confirmation path that halves PostgreSQL's CPU per
 * call (bench/experiments/confirm-shapes.ts). The name must be unique per text: node-postgres
 * refuses a known name with another text. Keep `*` out of the text: a prepared plan whose result
 * columns change (a later ALTER TABLE) fails with "cached plan must not change result type".
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/**
 * Declares a prepared statement; names are prefixed with `kassa_` so plugins can pick their own.
 * `text` may be a function: it is called once, on first use, for texts composed from entity column
 * lists (persistence/rows.ts `columnList`). Those depend only on the entity declarations, never on
 * a DataSource, so the statement is the same for every database; PostgreSQL keeps the plans per
 * connection.
 */
export function prepared(name: string, text: string | (() => string)): PreparedStatement {
  if (typeof text === 'string') return Object.freeze({ name: `kassa_${name}`, text });
  let built: string | undefined;
  return Object.freeze({
    name: `kassa_${name}`,
    get text(): string {
      built ??= text();
      return built;
    },
  });
}

interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/**
 * Runs `stmt` on the connection of the transaction `tx` (TypeORM's `query()` cannot name a
 * statement, so this goes to the pg client under the query runner). Returns the rows, also for
 * `… RETURNING`. Outside a transaction (`dataSource.manager`) it runs on a pooled connection.
 * Errors are TypeORM's QueryFailedError, as from `tx.query`.
 */
export async function queryPrepared<T = Record<string, unknown>>(tx: EntityManager, stmt: PreparedStatement, values: unknown[]): Promise<T[]> {
  const runner = tx.queryRunner;
  // Without a query runner (dataSource.manager), pg's pool checks a connection out for this one
  // statement and prepares it there the first time. TypeORM's postgres driver keeps the pool as `master`.
  const client = runner && !runner.isReleased
    ? (await runner.connect()) as PgClient
    : (tx.connection.driver as unknown as { master: PgClient }).master;
  try {
    return (await client.query({ name: stmt.name, text: stmt.text, values })).rows as T[];
  } catch (err) {
    throw new QueryFailedError(stmt.text, values, err as Error);
  }
}
