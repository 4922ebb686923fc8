/**
 * Lists the SQL statements (and transactions) one placeOrder and one confirmPayment send, the
 * first thing to look at when the throughput figures fall short: on a 2-core machine every round
 * trip and every commit counts. Run:
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/core-query-profile.ts
 */
import { createCoreBenchFixture } from './lib/core-fixture';

type QueryFn = (this: unknown, config: unknown, ...rest: unknown[]) => unknown;

export async function profileQueries(): Promise<Record<string, string[]>> {
  const f = await createCoreBenchFixture(4);
  const seen: string[] = [];
  // Every statement, TypeORM's and core's named prepared ones alike, goes through pg's
  // Client#query; wrap it on the prototype of the pool's clients for the profiled calls.
  const pool = (f.ds.driver as unknown as { master: { connect(): Promise<{ release(): void }> } }).master;
  const probe = await pool.connect();
  const proto = Object.getPrototypeOf(probe) as { query: QueryFn };
  probe.release();
  const original = proto.query;
  proto.query = function (this: unknown, config: unknown, ...rest: unknown[]) {
    const named = typeof config === 'object' && config !== null && 'name' in config && (config as { name?: string }).name;
    const text = typeof config === 'string' ? config : (config as { text?: string })?.text ?? '';
    seen.push(`${named ? `[prepared ${named}] ` : ''}${text.replace(/\s+/g, ' ').trim().slice(0, 160)}`);
    return original.call(this, config, ...rest);
  };
  try {
    const shop = await f.shop({ price: 2500, quotaSize: 1000 });
    await f.placeOne(shop); // warm caches (metadata, provider settings)
    const out: Record<string, string[]> = {};
    seen.length = 0;
    const { paymentId } = await f.placeOne(shop);
    out.placeOrder = [...seen];
    seen.length = 0;
    await f.core.payments.confirmPayment(paymentId, { actor: { type: 'provider', id: 'card' } });
    out.confirmPayment = [...seen];
    for (const [name, queries] of Object.entries(out)) {
      const commits = queries.filter((q) => /^COMMIT/i.test(q)).length;
      console.log(`\n${name}: ${queries.length} statements, ${commits} commits`);
      for (const q of queries) console.log(`  ${q}`);
    }
    return out;
  } finally {
    proto.query = original;
    await f.destroy();
  }
}

if (require.main === module) {
  profileQueries().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
