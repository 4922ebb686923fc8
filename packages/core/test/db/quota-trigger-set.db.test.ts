import { orderMachine, orderStates } from '@kassa/core/host';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';

/*
 * The quota counter's triggers must count exactly the orders in the machine's set `quotaHolding`:
 * the SQL is generated from the set (persistence/quota-trigger.ts, migration 1766000000000). This
 * reads the functions and the trigger back from the database and fails when any state list in
 * them differs from the set, e.g. after the set changed without a migration recreating them.
 */

/** Every list of order states quoted in `sql` (IN (...) or ARRAY[...]), as sorted arrays. */
function stateLists(sql: string): string[][] {
  const lists: string[][] = [];
  for (const m of sql.matchAll(/(?:IN\s*\(|ARRAY\[)((?:\s*'[a-z_]+'(?:::text)?\s*,?)+)[)\]]/gi)) {
    const states = [...m[1]!.matchAll(/'([a-z_]+)'/g)].map((s) => s[1]!);
    if (states.every((s) => (orderStates as readonly string[]).includes(s))) lists.push([...states].sort());
  }
  return lists;
}

describe('quota trigger and the quotaHolding set', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => { await db.destroy(); });

  const holding = [...orderMachine.statesOf('quotaHolding')].sort();

  it('every state list in the counter functions is the set', async () => {
    const rows: { proname: string; prosrc: string }[] = await db.dataSource.query(
      `SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = $1 AND p.proname IN ('kassa_quota_usage_recount', 'kassa_quota_usage_order_status', 'kassa_quota_usage_positions')`,
      [db.schema]);
    expect(rows.map((r) => r.proname).sort()).toEqual(['kassa_quota_usage_order_status', 'kassa_quota_usage_positions', 'kassa_quota_usage_recount']);
    for (const row of rows) {
      const lists = stateLists(row.prosrc);
      expect(lists.length).toBeGreaterThan(0);
      for (const list of lists) expect({ fn: row.proname, list }).toEqual({ fn: row.proname, list: holding });
    }
  });

  it('the status trigger fires exactly when an order enters or leaves the set', async () => {
    const [row]: { def: string }[] = await db.dataSource.query(
      `SELECT pg_get_triggerdef(t.oid) AS def FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND t.tgname = 'kassa_quota_usage_order_status'`, [db.schema]);
    const lists = stateLists(row!.def);
    expect(lists).toHaveLength(2);
    for (const list of lists) expect(list).toEqual(holding);
  });

  it('the functions keep their plan settings (migration 1764100000001)', async () => {
    const rows: { proname: string; proconfig: string[] | null }[] = await db.dataSource.query(
      `SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = $1 AND p.proname IN ('kassa_quota_usage_order_status', 'kassa_quota_usage_positions')`, [db.schema]);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.proconfig).toEqual(['enable_seqscan=off']);
  });

  it('the extractor sees a list that differs from the set', () => {
    expect(stateLists(`JOIN kassa_order o ON o.id = p.order_id AND o.status IN ('pending', 'paid', 'expired')`)).toEqual([['expired', 'paid', 'pending']]);
    expect(stateLists(`WHEN ((old.status = ANY (ARRAY['pending'::text, 'paid'::text])))`)).toEqual([['paid', 'pending']]);
  });
});
