/**
 * Orders placed per second on one hot quota (every order locks the same quota row), with p50/p99
 * per placeOrder call, against the real PostgreSQL in a fresh schema. The quota is exactly as large
 * as the orders placed, and the run checks that it is used up and not oversold. Run:
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/core-hot-quota.ts
 * Knobs: BENCH_ORDERS (default 2000), BENCH_CONCURRENCY (default 16).
 */
import { Order } from '../packages/core/src/host';
import { benchTarget, createCoreBenchFixture, envInt } from './lib/core-fixture';
import { probeBackendCpu } from './lib/pg-cpu';
import { formatCpu, formatSummary, measure, type Summary } from './lib/stats';

export async function benchHotQuota(): Promise<Summary> {
  const orders = envInt('BENCH_ORDERS', 2000);
  const concurrency = envInt('BENCH_CONCURRENCY', 16);
  const warmup = Math.min(200, Math.floor(orders / 10));
  const f = await createCoreBenchFixture(concurrency + 4);
  try {
    const shop = await f.shop({ price: 2500, quotaSize: orders + warmup });
    await measure(warmup, concurrency, () => f.placeOne(shop));
    const pgCpu = await probeBackendCpu(f.ds);
    const measured = await measure(orders, concurrency, () => f.placeOne(shop));
    const summary: Summary = { ...measured, pgCpuMs: pgCpu.elapsedCpuMs(), pgBackends: pgCpu.backends };

    const placed = await f.ds.getRepository(Order).countBy({ eventId: shop.event.id });
    if (placed !== orders + warmup) throw new Error(`${placed} orders placed on a quota of ${orders + warmup}`);
    const refused = await f.placeOne(shop).then(() => false, (err: { code?: string }) => err.code === 'ORDER_QUOTA_EXCEEDED');
    if (!refused) throw new Error('the quota is used up, yet one more order was not refused with ORDER_QUOTA_EXCEEDED');
    console.log(`${formatSummary(`placeOrder hot quota (c=${concurrency})`, summary)}  [${benchTarget()}]`);
    console.log(formatCpu('  CPU per order', summary));
    return summary;
  } finally {
    await f.destroy();
  }
}

if (require.main === module) {
  benchHotQuota().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
