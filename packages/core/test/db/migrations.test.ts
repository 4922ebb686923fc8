import { createTestDatabase, type TestDatabase } from '@kassa/testing';

describe('migrations on the real PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => { await db.destroy(); });

  it('creates every table core owns', async () => {
    const rows: { table_name: string }[] = await db.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [db.schema]);
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining([
      'api_token', 'app_user', 'event', 'kassa_order', 'log_entry', 'order_fee', 'order_payment', 'order_position',
      'order_refund', 'organizer', 'outbox_event', 'product', 'quota', 'quota_product', 'setting', 'team', 'team_member',
    ]));
  });

  it('matches the entity metadata (no pending schema change)', async () => {
    const log = await db.dataSource.driver.createSchemaBuilder().log();
    const relevant = log.upQueries.map((q) => q.query).filter((sql) => !/INDEX|CONSTRAINT|DEFAULT/.test(sql));
    expect(relevant).toEqual([]);
  });

  it('refuses a negative order total at the database level', async () => {
    await expect(db.dataSource.query(`INSERT INTO organizer (slug, name) VALUES ('Bad Slug', 'x')`)).rejects.toThrow(/check constraint/);
  });
});
