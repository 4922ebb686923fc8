import type { EntityManager } from 'typeorm';
import { coreMigrations } from '../../src/db/migrations';
import { findOpenPayments } from '../../src/persistence/payment-port-rows';
import { findOpenPaymentsOfOrders } from '../../src/persistence/plugin-mail.store';
import { createCoreHarness, type CoreHarness } from './core-harness';

/**
 * Migration 1769280000000 replaced order_payment's (provider, state) index with (provider,
 * created_at), so that no index of order_payment names `state` and the pending step of every order
 * placed with a deferred provider is a HOT update. The reads that go by provider still go through
 * an index on a table of 12,000 payments where the open ones are few.
 */
describe('order_payment indexes and the pending step', () => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await createCoreHarness();
    const shop = await h.shop();
    // 6,000 orders over 60 days, two payments each over three providers; one payment in twenty is open.
    await h.ds.query(
      `INSERT INTO kassa_order (organizer_id, event_id, code, secret, email, locale, total, currency, status, expires, created_at)
       SELECT $1::uuid, $2::uuid, 'P' || lpad(g::text, 7, '0'), md5($2::text || g::text), 'b' || g || '@example.org', 'en', 1000, 'EUR',
              CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'paid' END, now() + interval '14 days', now() - make_interval(mins => g * 14)
         FROM generate_series(1, 6000) g`, [shop.organizer.id, shop.event.id]);
    await h.ds.query(
      `INSERT INTO order_payment (order_id, local_id, state, amount, currency, provider, info, created_at)
       SELECT o.id, l, CASE WHEN l = 2 AND o.status = 'pending' THEN (CASE WHEN o.code::text LIKE '%0' THEN 'pending' ELSE 'created' END)
                            WHEN l = 1 THEN 'canceled' ELSE 'confirmed' END,
              1000, 'EUR', (ARRAY['bank', 'card', 'other'])[1 + (hashtext(o.code) & 1023) % 3],
              CASE WHEN l = 2 THEN jsonb_build_object('reference', o.code) ELSE '{}'::jsonb END, o.created_at + make_interval(secs => l)
         FROM kassa_order o CROSS JOIN generate_series(1, 2) l WHERE o.code LIKE 'P%'`);
    await h.ds.query('ANALYZE kassa_order; ANALYZE order_payment');
  });
  afterAll(async () => { await h.destroy(); });

  /** The statement `read` sends, and its parameters (nothing is run). */
  async function sentBy(read: (m: EntityManager) => Promise<unknown>): Promise<{ sql: string; params: unknown[] }> {
    let sent: { sql: string; params: unknown[] } | undefined;
    const capture = { query: async (sql: string, params: unknown[]) => { sent = { sql, params }; return []; } };
    await read(capture as unknown as EntityManager);
    return sent!;
  }

  interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] }

  /** What the plan of `sent` scans: every index it reads, and whether it reads order_payment sequentially. */
  async function scans(sent: { sql: string; params: unknown[] }): Promise<{ indexes: string[]; paymentSeqScan: boolean }> {
    const [row] = await h.ds.query(`EXPLAIN (FORMAT JSON) ${sent.sql}`, sent.params) as { 'QUERY PLAN': [{ Plan: PlanNode }] }[];
    const found = { indexes: [] as string[], paymentSeqScan: false };
    const walk = (n: PlanNode): void => {
      if (n['Index Name']) found.indexes.push(n['Index Name']);
      if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'order_payment') found.paymentSeqScan = true;
      for (const c of n.Plans ?? []) walk(c);
    };
    walk(row!['QUERY PLAN'][0].Plan);
    return found;
  }

  it('has no index on order_payment that names state', async () => {
    const rows: { indexname: string; indexdef: string }[] = await h.ds.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'order_payment' ORDER BY indexname`, [h.db.schema]);
    expect(rows.map((r) => r.indexname)).toEqual(['order_payment_order_id_local_id_key', 'order_payment_pkey', 'order_payment_provider_created']);
    for (const r of rows) expect(r.indexdef).not.toMatch(/\bstate\b/);
  });

  it("finds a provider's open payments by info key in a window of creation times through the new index", async () => {
    const q = { provider: 'bank', infoKey: 'reference', olderThanMs: 86_400_000, maxAgeMs: 30 * 86_400_000, limit: 50 };
    expect(await scans(await sentBy((m) => findOpenPayments(m, q)))).toEqual({ indexes: ['order_payment_provider_created'], paymentSeqScan: false });
    const found = await findOpenPayments(h.ds.manager, q);
    const [expected] = await h.ds.query(
      `SELECT count(*)::int AS n FROM order_payment WHERE provider = 'bank' AND state IN ('created', 'pending') AND info ? 'reference'
          AND created_at < now() - interval '1 day' AND created_at > now() - interval '30 days'`) as { n: number }[];
    expect(expected!.n).toBeGreaterThan(0);
    expect(found).toHaveLength(Math.min(expected!.n, 50));
  });

  it("pages through a provider's open payments of orders awaiting payment without a sequential scan of the payments", async () => {
    const q = { providers: ['bank'], createdAfter: new Date(Date.now() - 14 * 86_400_000), limit: 200 };
    const plan = await scans(await sentBy((m) => findOpenPaymentsOfOrders(m, q)));
    expect(plan.indexes).toContain('order_payment_provider_created');
    expect(plan.paymentSeqScan).toBe(false);
    const page = await findOpenPaymentsOfOrders(h.ds.manager, q);
    expect(page.length).toBeGreaterThan(0);
    for (const p of page) expect(['created', 'pending']).toContain(p.payment.state);
  });

  it('moves each payment created → pending with a HOT update (no new index entries)', async () => {
    const shop = await h.shop();
    const stats = async () => {
      const [row] = await h.ds.query(
        `SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'order_payment'`,
        [h.db.schema]) as { upd: number; hot: number }[];
      return row!;
    };
    const before = await stats();
    const placed = 12;
    for (let i = 0; i < placed; i++) {
      const { paymentId } = await h.order(shop, { provider: 'bank' });
      h.bank.paymentOutcomes.push({ kind: 'pending', info: { reference: `REF-${i}` } });
      await h.core.payments.executePayment(paymentId, {});
    }
    const [moved] = await h.ds.query(
      `SELECT count(*)::int AS n FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE o.event_id = $1 AND p.state = 'pending'`,
      [shop.event.id]) as { n: number }[];
    expect(moved!.n).toBe(placed);
    // Each payment is updated twice (the initiate flag, then the pending step), by whichever pool
    // connections ran them; each backend reports its counts when it goes idle, at most a second
    // later: wait for all of them, so that a pending step not yet counted cannot hide.
    let after = await stats();
    for (let i = 0; i < 100 && after.upd - before.upd < 2 * placed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await stats();
    }
    expect(after.upd - before.upd).toBe(2 * placed);
    expect(after.hot - before.hot).toBe(after.upd - before.upd);
  });

  it('migrations 1769280000000 and 1769280000001 go down and up again', async () => {
    const indexes = async (table: string) => ((await h.ds.query(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname', [h.db.schema, table])) as { indexname: string }[])
      .map((r) => r.indexname);
    const options = async () => ((await h.ds.query(
      `SELECT c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'order_payment'`,
      [h.db.schema])) as { reloptions: string[] | null }[])[0]!.reloptions;
    const ours = coreMigrations.map((M) => new M()).filter((m) => /^(PaymentPendingHot|DropOrderSecretUnique)1769280/.test(m.name!));
    expect(ours).toHaveLength(2);
    const runner = h.ds.createQueryRunner();
    try {
      for (const m of [...ours].reverse()) await m.down(runner);
      expect(await indexes('order_payment')).toContain('order_payment_provider_state');
      expect(await indexes('order_payment')).not.toContain('order_payment_provider_created');
      expect(await indexes('kassa_order')).toContain('kassa_order_secret_key');
      expect(await options()).toBeNull();
      for (const m of ours) await m.up(runner);
    } finally {
      await runner.release();
    }
    expect(await indexes('order_payment')).toEqual(['order_payment_order_id_local_id_key', 'order_payment_pkey', 'order_payment_provider_created']);
    expect(await indexes('kassa_order')).not.toContain('kassa_order_secret_key');
    expect(await options()).toEqual(['fillfactor=90']);
  });
});
