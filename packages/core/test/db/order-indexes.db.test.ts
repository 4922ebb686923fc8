import { createShop, createTestDatabase, type TestDatabase } from '@kassa/testing';
import { OrderReadStore } from '../../src/persistence/order-read.store';

/**
 * Migration 1769250000000 dropped two indexes of kassa_order that every placed order paid for. The
 * reads they were made for still go through an index: an organizer's orders newest first (the order
 * search, the dashboard) through the keyset index read backwards, and the order whose buyer's email
 * is compared (stored-method.store.ts) through its primary key.
 */
describe('kassa_order indexes after dropping the unread ones', () => {
  let db: TestDatabase;
  let organizerId: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    const shop = await createShop(db.dataSource);
    const other = await createShop(db.dataSource);
    organizerId = shop.organizer.id;
    // Enough orders of two organizers that a sequential scan and a sort would cost more than the index.
    for (const s of [shop, other]) {
      await db.dataSource.query(
        `INSERT INTO kassa_order (organizer_id, event_id, code, secret, email, locale, total, currency, status, expires, created_at)
         SELECT $1::uuid, $2::uuid, 'C' || lpad(g::text, 7, '0'), md5($2::text || g::text), 'b' || g || '@example.org', 'en', 1000, 'EUR', 'pending',
                now() + interval '14 days', now() - make_interval(secs => g)
           FROM generate_series(1, 5000) g`, [s.organizer.id, s.event.id]);
    }
    await db.dataSource.query('ANALYZE kassa_order');
  });
  afterAll(async () => { await db.destroy(); });

  async function plan(sql: string, params: unknown[]): Promise<string> {
    const [row] = await db.dataSource.query(`EXPLAIN (FORMAT JSON) ${sql}`, params) as { 'QUERY PLAN': unknown }[];
    return JSON.stringify(row!['QUERY PLAN']);
  }

  it('has neither dropped index', async () => {
    const rows: { indexname: string }[] = await db.dataSource.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'kassa_order'`, [db.schema]);
    const names = rows.map((r) => r.indexname);
    expect(names).toEqual(expect.arrayContaining(['kassa_order_organizer_keyset', 'kassa_order_pkey']));
    expect(names).not.toContain('kassa_order_organizer_created');
    expect(names).not.toContain('kassa_order_email');
  });

  it("reads an organizer's newest orders backwards through the keyset index", async () => {
    const text = await plan('SELECT o.id FROM kassa_order o WHERE o.organizer_id = $1 ORDER BY o.created_at DESC, o.id LIMIT 50', [organizerId]);
    expect(text).toContain('"Index Name":"kassa_order_organizer_keyset"');
    expect(text).toContain('"Scan Direction":"Backward"');
    const newest: { code: string }[] = await db.dataSource.query(
      'SELECT o.code FROM kassa_order o WHERE o.organizer_id = $1 ORDER BY o.created_at DESC, o.id LIMIT 3', [organizerId]);
    expect(newest.map((r) => r.code)).toEqual(['C0000001', 'C0000002', 'C0000003']);
  });

  it('has no index on the secret, which no read goes by (migration 1769280000001)', async () => {
    const rows: { indexdef: string }[] = await db.dataSource.query(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'kassa_order'`, [db.schema]);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.indexdef).not.toMatch(/\bsecret\b/);
  });

  it("reads the order behind a buyer's link by event and code, and compares the secret after", async () => {
    const [order] = await db.dataSource.query('SELECT event_id, code, secret FROM kassa_order WHERE organizer_id = $1 LIMIT 1', [organizerId]) as { event_id: string; code: string; secret: string }[];
    const text = await plan('SELECT o.id, o.secret FROM kassa_order o WHERE o.event_id = $1 AND o.code = $2', [order!.event_id, order!.code]);
    expect(text).toContain('"Index Name":"kassa_order_event_id_code_key"');
    const found = await new OrderReadStore(db.dataSource).orderOfEventByCode(order!.event_id, order!.code);
    expect(found?.secret).toBe(order!.secret);
  });

  it("compares an order's email after reading the order by its id", async () => {
    const [order] = await db.dataSource.query('SELECT id FROM kassa_order WHERE organizer_id = $1 LIMIT 1', [organizerId]) as { id: string }[];
    const text = await plan(
      `SELECT c.id FROM customer c JOIN kassa_order o ON o.organizer_id = c.organizer_id AND lower(o.email) = c.email WHERE o.id = $1`, [order!.id]);
    expect(text).toContain('"Index Name":"kassa_order_pkey"');
  });
});
