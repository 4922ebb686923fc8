import { randomBytes } from 'node:crypto';
import { coreMigrations, createDataSource, runMigrations, type DataSource } from '@kassa/core/host';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import { purgeExpiredSessions } from '../../src';
import { shopMigrations } from '../../src/shop';

/**
 * The http_session table is the server's: its migration moved from core to the server under the
 * same class name. Core, server and plugin migrations run as one list ordered by timestamp, so a
 * fresh database ends up as before, and a database that ran the migration when it was core's does
 * not run it again.
 */
describe('http_session migration (owned by the server)', () => {
  const schemas: string[] = [];
  const sources: DataSource[] = [];
  // A connection to create and drop the empty schemas these tests migrate themselves.
  let admin: TestDatabase;
  beforeAll(async () => { admin = await createTestDatabase(); });

  async function freshSchema(): Promise<string> {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await admin.dataSource.query(`CREATE SCHEMA ${schema}`);
    schemas.push(schema);
    return schema;
  }

  async function open(schema: string, withServer: boolean): Promise<DataSource> {
    const ds = createDataSource({ url: admin.url, schema, migrations: withServer ? shopMigrations : [], poolSize: 2 });
    await ds.initialize();
    sources.push(ds);
    return ds;
  }

  const sessionTable = async (ds: DataSource) => ((await ds.query("SELECT to_regclass('http_session')::text AS t")) as { t: string | null }[])[0]!.t;
  const executed = async (ds: DataSource) => ((await ds.query('SELECT name FROM kassa_migrations ORDER BY id')) as { name: string }[]).map((r) => r.name);

  afterAll(async () => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    for (const s of schemas) await admin.dataSource.query(`DROP SCHEMA ${s} CASCADE`);
    await admin.destroy();
  });

  it('core migrates no session table; the server does, in timestamp order among core\'s', async () => {
    const coreOnly = await open(await freshSchema(), false);
    await runMigrations(coreOnly);
    expect(await sessionTable(coreOnly)).toBeNull();
    expect(coreMigrations.map((M) => new M().name)).not.toContain('HttpSession1763950000000');

    const full = await open(await freshSchema(), true);
    await runMigrations(full);
    expect(await sessionTable(full)).not.toBeNull();
    const names = await executed(full);
    expect(names.filter((n) => n === 'HttpSession1763950000000')).toHaveLength(1);
    expect(names.indexOf('HttpSession1763950000000')).toBe(names.indexOf('JobsAndEmails1763900000000') + 1);
  });

  it('an existing database that ran it (as core\'s) runs nothing again and keeps its sessions', async () => {
    const schema = await freshSchema();
    const before = await open(schema, true);
    await runMigrations(before);
    await before.query("INSERT INTO http_session (id, data, expires_at) VALUES ('session-0123456789', '{}', now() + interval '1 day')");
    await before.destroy();

    const after = await open(schema, true);
    expect(await runMigrations(after)).toEqual([]);
    expect(await after.query('SELECT id FROM http_session')).toEqual([{ id: 'session-0123456789' }]);
  });

  it('a database migrated by core alone (a worker started first) gets the table when the server starts', async () => {
    const schema = await freshSchema();
    await runMigrations(await open(schema, false));
    const server = await open(schema, true);
    expect(await runMigrations(server)).toEqual(expect.arrayContaining(['HttpSession1763950000000', 'ShopSubmission1763800000000']));
    expect(await sessionTable(server)).not.toBeNull();
  });

  it('purgeExpiredSessions deletes only expired sessions, and nothing where the table is absent', async () => {
    const ds = await open(await freshSchema(), true);
    await runMigrations(ds);
    const now = new Date('2030-01-01T12:00:00Z');
    await ds.query(
      `INSERT INTO http_session (id, data, expires_at) VALUES ('expired-0123456789', '{}', $1), ('current-0123456789', '{}', $2)`,
      [new Date(now.getTime() - 1000), new Date(now.getTime() + 1000)],
    );
    expect(await purgeExpiredSessions(ds, now)).toBe(1);
    expect(await ds.query('SELECT id FROM http_session')).toEqual([{ id: 'current-0123456789' }]);
    const coreOnly = await open(await freshSchema(), false);
    await runMigrations(coreOnly);
    expect(await purgeExpiredSessions(coreOnly, now)).toBe(0);
  });
});
