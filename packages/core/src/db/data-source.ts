import { DataSource, type MigrationInterface } from 'typeorm';
import { coreEntities } from './entities';
import { coreMigrations } from './migrations';

export interface DataSourceOptions {
  /** postgres://… connection string. */
  url: string;
  /** Schema to work in (set as search_path on every connection); default "public". */
  schema?: string;
  /** Extra entities and migrations, e.g. from plugins. */
  entities?: EntityClass[];
  migrations?: (new () => MigrationInterface)[];
  /** Pool size; PGlite serves one connection at a time, so the embedded mode uses a small pool. */
  poolSize?: number;
  logging?: boolean;
}

/** An entity class (TypeORM decorators) contributed by core or a plugin. */
export type EntityClass = new (...args: never[]) => object;

/**
 * Builds (does not connect) the TypeORM DataSource. The schema is created only by migrations;
 * `synchronize` is never on.
 */
export function createDataSource(opts: DataSourceOptions): DataSource {
  const schema = opts.schema ?? 'public';
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: [...coreEntities, ...(opts.entities ?? [])],
    migrations: [...coreMigrations, ...(opts.migrations ?? [])],
    migrationsTableName: 'kassa_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    logging: opts.logging ?? false,
    extra: {
      max: opts.poolSize ?? 10,
      // A request waits at most this long for a connection (a pool slot, or a database that does
      // not answer), then fails with 503 instead of hanging; a refused connection fails at once.
      connectionTimeoutMillis: 30_000,
      // search_path per connection, so a test schema or a custom schema needs no qualified names.
      // jit off: Kassa's statements touch a handful of rows, but the order placement's plan is
      // estimated from jsonb inputs of unknown size and crosses jit_above_cost; compiling it with
      // LLVM took over 4 s per call. JIT pays off only for long analytical queries.
      options: `-c search_path=${quoteIdent(schema)},public -c jit=off`,
    },
  });
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Invalid schema name ${name}`);
  return name;
}
