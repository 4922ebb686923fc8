/**
 * Payment confirmations per second on distinct orders (issue 2's target: ≥ 1,000/s on the 2-core
 * machine), with p50/p99 per confirmPayment call, against the real PostgreSQL in a fresh schema.
 * Setup (not measured) places the orders through placeOrder. Run:
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/core-confirmations.ts
 * Knobs: BENCH_ORDERS (default 3000), BENCH_CONCURRENCY (default 16).
 */
import { Order } from '../packages/core/src/host';
import { benchTarget, createCoreBenchFixture, envInt } from './lib/core-fixture';
import { probeBackendCpu } from './lib/pg-cpu';
import { formatCpu, formatSummary, measure, type Summary } from './lib/stats';

const actor = { type: 'provider', id: 'card' } as const;

export async function benchConfirmations(): Promise<Summary> {
  const orders = envInt('BENCH_ORDERS', 3000);
  const concurrency = envInt('BENCH_CONCURRENCY', 16);
  const warmup = Math.min(200, Math.floor(orders / 10));
  const f = await createCoreBenchFixture(concurrency + 4);
  try {
    const shop = await f.shop({ price: 2500, quotaSize: null });
    const placed: { orderId: string; paymentId: string }[] = [];
    await measure(orders + warmup, concurrency, async () => { placed.push(await f.placeOne(shop)); });

    await measure(warmup, concurrency, (i) => f.core.payments.confirmPayment(placed[i]!.paymentId, { actor }));
    const pgCpu = await probeBackendCpu(f.ds);
    const measured = await measure(orders, concurrency, async (i) => {
      const result = await f.core.payments.confirmPayment(placed[warmup + i]!.paymentId, { actor });
      if (result.kind !== 'order_paid') throw new Error(`expected order_paid, got ${result.kind}`);
    });
    const summary: Summary = { ...measured, pgCpuMs: pgCpu.elapsedCpuMs(), pgBackends: pgCpu.backends };

    // A benchmark of a broken path measures nothing: every order must now be paid, exactly once.
    const paid = await f.ds.getRepository(Order).countBy({ eventId: shop.event.id, status: 'paid' });
    if (paid !== orders + warmup) throw new Error(`${paid} orders paid, expected ${orders + warmup}`);
    console.log(`${formatSummary(`confirmPayment (c=${concurrency})`, summary)}  [${benchTarget()}]`);
    console.log(formatCpu('  CPU per confirmation', summary));
    return summary;
  } finally {
    await f.destroy();
  }
}

if (require.main === module) {
  benchConfirmations().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
