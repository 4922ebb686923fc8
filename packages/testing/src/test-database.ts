import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDataSource, runMigrations, type DataSource, type MigrationInterface, type EntityClass } from '@kassa/core/host';

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly dataSource: DataSource;
  readonly schema: string;
  readonly url: string;
  /** Drops the schema and closes the pool. */
  destroy(): Promise<void>;
}

export interface TestDatabaseOptions {
  entities?: EntityClass[];
  migrations?: (new () => MigrationInterface)[];
  poolSize?: number;
}

/**
 * A fresh schema on the real PostgreSQL (DATABASE_URL, default the local `test` database) with
 * the real migrations applied. One per test file keeps files independent under parallel Jest workers.
 */
export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL ?? defaultDatabaseUrl;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const dataSource = createDataSource({ url, schema, entities: opts.entities, migrations: opts.migrations, poolSize: opts.poolSize ?? 20 });
  await dataSource.initialize();
  await runMigrations(dataSource);
  return {
    dataSource,
    schema,
    url,
    async destroy() {
      if (dataSource.isInitialized) {
        await dataSource.query(`DROP SCHEMA ${schema} CASCADE`);
        await dataSource.destroy();
      }
    },
  };
}
