/**
 * Lists the SQL statements (and transactions) one placeOrder and one confirmPayment send, the
 * first thing to look at when the throughput figures fall short: on a 2-core machine every round
 * trip and every commit counts. Run:
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/core-query-profile.ts
 */
import type { DataSource } from '../packages/core/src/index';
import { createCoreBenchFixture } from './lib/core-fixture';

type Logger = DataSource['logger'];

export async function profileQueries(): Promise<Record<string, string[]>> {
  const f = await createCoreBenchFixture(4);
  const seen: string[] = [];
  const logger: Logger = {
    logQuery: (query) => { seen.push(query.replace(/\s+/g, ' ').slice(0, 160)); },
    logQueryError: () => {}, logQuerySlow: () => {}, logSchemaBuild: () => {}, logMigration: () => {}, log: () => {},
  };
  // TypeORM hands every statement to the data source's logger; swap it in for the profiled calls.
  (f.ds as unknown as { logger: Logger }).logger = logger;
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
    await f.destroy();
  }
}

if (require.main === module) {
  profileQueries().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
