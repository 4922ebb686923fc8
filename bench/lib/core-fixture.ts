// Benchmarks import the workspace packages by path: bench/ is not a workspace package, so
// `@kassa/core` does not resolve from here. Both paths are the packages' public indexes.
import {
  createDataSource, createKassaCore, runMigrations, startEmbeddedPostgres, systemClock, type DataSource, type KassaCore,
} from '../../packages/core/src/host';
import {
  ScriptedProvider, createShop, createTestDatabase, providerContextFactory, providerLookup, type ShopFixture, type TestDatabase,
} from '../../packages/testing/src/index';

/**
 * A fresh schema on the real PostgreSQL (real migrations), the real services and one card provider.
 * With BENCH_TARGET=embedded the same runs on the embedded PostgreSQL (PGlite, in memory) instead.
 */
export interface CoreBenchFixture {
  db: TestDatabase;
  ds: DataSource;
  core: KassaCore;
  shop(opts: { price?: number; quotaSize?: number | null }): Promise<ShopFixture>;
  /** Places one one-ticket order paid by card; returns the order id and its payment's id. */
  placeOne(shop: ShopFixture): Promise<{ orderId: string; paymentId: string }>;
  destroy(): Promise<void>;
}

export async function createCoreBenchFixture(poolSize: number): Promise<CoreBenchFixture> {
  const db = process.env.BENCH_TARGET === 'embedded' ? await embeddedDatabase(Math.min(poolSize, 8)) : await createTestDatabase({ poolSize });
  const card = new ScriptedProvider({ identifier: 'card' });
  const providers = providerLookup(card);
  const core = createKassaCore({
    dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, systemClock), clock: systemClock,
  });
  return {
    db, ds: db.dataSource, core,
    shop: (opts) => createShop(db.dataSource, opts),
    async placeOne(shop) {
      const placed = await core.orders.placeOrder({
        eventId: shop.event.id, email: 'buyer@example.org', positions: [{ productId: shop.product.id }], provider: 'card',
      });
      if (!placed.payment) throw new Error('placeOrder returned no payment');
      return { orderId: placed.order.id, paymentId: placed.payment.id };
    },
    destroy: () => db.destroy(),
  };
}

/** Which database the figures come from, for the printed report. */
export function benchTarget(): string {
  return process.env.BENCH_TARGET === 'embedded' ? 'embedded PGlite (in memory)' : 'PostgreSQL (fresh schema)';
}

async function embeddedDatabase(poolSize: number): Promise<TestDatabase> {
  const pg = await startEmbeddedPostgres();
  const dataSource = createDataSource({ url: pg.url, poolSize });
  await dataSource.initialize();
  await runMigrations(dataSource);
  return {
    dataSource, schema: 'public', url: pg.url,
    async destroy() {
      await dataSource.destroy();
      await pg.close();
    },
  };
}

/** A positive integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}
