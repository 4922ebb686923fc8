/**
 * A charge run of 10,000 due instalments through the Stripe plugin against the emulator with its
 * rate limit on (docs/performance.md, "Charge runs"): throughput as a share of the configured
 * rate, 429s received, double charges (from the emulator's own charges, grouped by our payment
 * id), then the same with injected 500s and timeouts. Setup (not measured): ORDERS orders of one
 * buyer, each a plan of a deposit and INSTALMENTS-1 daily instalments, the deposit paid. Run:
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/charge-run.ts
 * Knobs: BENCH_ORDERS (default 1000), BENCH_INSTALMENTS (default 11), BENCH_RATE (requests/s,
 * default 100), BENCH_CONCURRENCY (charges in flight, default 64), BENCH_CHAOS (default 0.2).
 */
import { randomBytes } from 'node:crypto';
import { cpuUsage } from 'node:process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  SettingsStore, createKassaCore, createPluginRuntimes, createProviderContextFactory, globalSettings, loadPlugins, organizerSettings, type ChargeRunResult,
} from '../packages/core/src/host';
import { createShop, createTestDatabase } from '../packages/testing/src';
import { STRIPE_NAMESPACE, createStripeClient, createStripePlugin } from '../plugins/stripe/src';
import { ensureStripeCustomer, methodDetails } from '../plugins/stripe/src/saved-methods/customers';
import type { StripeProvider } from '../plugins/stripe/src/stripe-provider';
import { stripeSettingsFrom } from '../plugins/stripe/src/stripe-account-context';
import { envInt } from './lib/core-fixture';
import { startEmulatorProcess } from './lib/emulator-process';
import { probeBackendCpu } from './lib/pg-cpu';
import { countStatements } from './lib/statement-count';

const orders = envInt('BENCH_ORDERS', 1000);
const instalments = envInt('BENCH_INSTALMENTS', 11);
const rate = envInt('BENCH_RATE', 100);
const concurrency = envInt('BENCH_CONCURRENCY', 64);
const chaosShare = Number(process.env.BENCH_CHAOS ?? '0.2');
// A charge in flight holds no connection: the run needs one for its claims and one for its writes.
const poolSize = 12;

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess({ rateLimit: { enabled: false, mode: 'live', ratePerSecond: rate } });
  const plugin = createStripePlugin();
  const loaded = loadPlugins([plugin]);
  const db = await createTestDatabase({ migrations: [...loaded.migrations], poolSize });
  // Idle connections stay open, so the CPU probe follows the same backends for the whole run.
  (db.dataSource.driver as unknown as { master: { options: { idleTimeoutMillis: number } } }).master.options.idleTimeoutMillis = 0;
  const clock = new RunningClock('2030-03-01T10:00:00Z');
  const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
  const baseUrl = 'http://127.0.0.1:1';
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
  const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
  const shop = await createShop(db.dataSource, { price: 11_000, quotaSize: null });
  const secretKey = `sk_test_bench${process.pid}`;
  await settings.set(globalSettings, STRIPE_NAMESPACE, { apiBase: emulator.url, stripeJsUrl: emulator.stripeJsUrl });
  await settings.set(organizerSettings(shop.organizer.id), STRIPE_NAMESPACE, {
    _enabled: true, secretKey, publishableKey: (await emulator.keysFor(secretKey)).publishableKey, maxNetworkRetries: 0, timeoutMs: 2000, requestsPerSecond: rate,
  });
  const runtimes = createPluginRuntimes({ core, dataSource: db.dataSource, settings, clock, baseUrl }, [plugin]);
  const rt = runtimes.runtime(plugin, { enqueue: async () => undefined, log: { info() {}, warn() {}, error() {} } });
  const stripe = createStripeClient({ secretKey, apiBase: emulator.url, maxNetworkRetries: 0 });
  await core.plans.updateSettings(shop.event.id, { enabled: true, instalments, intervalDays: 1, graceDays: 7 });

  // Setup: one buyer, one saved card, ORDERS plans with their deposits paid.
  let methodId = '';
  for (let i = 0; i < orders; i++) {
    const placed = await core.orders.placeOrder({ eventId: shop.event.id, email: 'bench@example.org', positions: [{ productId: shop.product.id }], provider: 'stripe' });
    await core.plans.createPlan(placed.order.id, { provider: 'stripe', actor: { type: 'system' } });
    if (!methodId) {
      const customer = await ensureStripeCustomer(rt, stripe, placed.order.id);
      const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer });
      methodId = (await rt.payments.storedMethods.save(placed.order.id, { reference: pm.id, customerReference: customer, ...methodDetails(pm) })).id;
    }
    await core.plans.useMethod(placed.order.id, methodId, { type: 'system' });
    await core.payments.confirmPayment(placed.payment!.id, { actor: { type: 'provider', id: 'stripe' } });
  }
  // The deposits' instalments follow their confirmed payments here, not in the measured runs.
  await core.plans.settlePaidElsewhere({ limit: orders });
  const due = orders * (instalments - 1);
  console.log(`setup: ${orders} plans, ${due} instalments due; Stripe rate limit ${rate}/s (emulator and client), concurrency ${concurrency}`);

  const provider = loaded.providers.get('stripe') as unknown as StripeProvider;
  const statements = countStatements(db.dataSource);
  const run = async (label: string, paymentIds: Set<string>) => {
    await emulator.configureRateLimit({ enabled: true, ratePerSecond: rate, burst: rate });
    const statsBefore = await emulator.stats() as { rate_limited?: number; by_status?: Record<string, number> };
    const pacer = provider.accountPacer(stripeSettingsFrom(await settings.resolve(organizerSettings(shop.organizer.id), STRIPE_NAMESPACE)), 'bench').pacer;
    const pacerBefore = { ...pacer.stats };
    // Every pooled connection open before the probe, so that its backends are all followed.
    await Promise.all(Array.from({ length: poolSize }, () => db.dataSource.query('SELECT pg_sleep(0.05)')));
    const pgCpu = await probeBackendCpu(db.dataSource);
    statements.reset();
    const cpu0 = cpuUsage();
    const emulatorCpu0 = await emulator.cpuMs();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const t0 = performance.now();
    const totals: ChargeRunResult = { claimed: 0, succeeded: 0, processing: 0, softDeclined: 0, actionRequired: 0, unknown: 0, settledElsewhere: 0 };
    let passes = 0;
    for (;;) {
      const tp = performance.now();
      const r = await core.chargeRuns.run({ limit: 2000, concurrency, unknownRetryMs: 60_000 });
      if (process.env.BENCH_DEBUG) console.log(`pass ${passes}: ${JSON.stringify(r)} in ${(performance.now() - tp).toFixed(0)} ms`);
      passes++;
      for (const k of Object.keys(totals) as (keyof ChargeRunResult)[]) totals[k] += r[k];
      if (r.claimed === 0) {
        const [left] = await db.dataSource.query(
          `SELECT count(*)::int AS n FROM plan_instalment i JOIN payment_plan p ON p.id = i.plan_id
            WHERE i.state IN ('scheduled', 'retrying') AND i.next_attempt_at <= $2 AND p.organizer_id = $1`, [shop.organizer.id, clock.now()]);
        if (left.n === 0 || passes > 50) break;
        // Unknown outcomes of the last pass wait out their short retry: move the clock past it.
        clock.advance({ minutes: 2 });
      }
    }
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu = cpuUsage(cpu0);
    const emulatorMs = (await emulator.cpuMs()) - emulatorCpu0;
    lag.disable();
    const pgMs = pgCpu.elapsedCpuMs();
    const sent = statements.total();
    const statsAfter = await emulator.stats() as { rate_limited?: number; by_status?: Record<string, number> };
    const got429 = (statsAfter.by_status?.['429'] ?? 0) - (statsBefore.by_status?.['429'] ?? 0);
    const report = await emulator.chargeReport(secretKey, 'kassa_payment_id') as { double_charges: number; succeeded: number };
    const [states] = await db.dataSource.query(
      `SELECT count(*) FILTER (WHERE i.state = 'paid')::int AS paid, count(*) FILTER (WHERE i.state NOT IN ('paid'))::int AS other
         FROM plan_instalment i WHERE i.seq > 1 AND i.payment_id = ANY($1::uuid[])`, [[...paymentIds]]);
    const requests = pacer.stats.requests - pacerBefore.requests;
    const charged = totals.succeeded;
    console.log(`${label}: ${charged} instalments charged in ${elapsedS.toFixed(1)} s = ${(charged / elapsedS).toFixed(1)}/s, ${(requests / elapsedS).toFixed(1)} Stripe requests/s `
      + `= ${((100 * requests) / elapsedS / rate).toFixed(1)} % of the ${rate}/s limit; 429s received ${got429} (pacer retried ${pacer.stats.rateLimited - pacerBefore.rateLimited}); `
      + `unknown outcomes ${totals.unknown}; passes ${passes}; instalments paid ${states.paid}, not paid ${states.other}; `
      + `emulator: ${report.succeeded} successful charges in total, double charges ${report.double_charges}; `
      + `CPU per instalment: Kassa (node, with the bench) ${((cpu.user + cpu.system) / 1000 / Math.max(1, charged)).toFixed(2)} ms, `
      + `PostgreSQL (${pgCpu.backends} backends) ${(pgMs / Math.max(1, charged)).toFixed(2)} ms, emulator (own process) ${(emulatorMs / Math.max(1, charged)).toFixed(2)} ms; `
      + `${(sent / Math.max(1, charged)).toFixed(1)} statements per instalment; event loop delay p50 ${(lag.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms`);
    if (process.env.BENCH_DEBUG) for (const [shape, n] of statements.top(25)) console.log(`  ${(n / Math.max(1, charged)).toFixed(2)}  ${shape}`);
  };

  const allPayments = async (days: number): Promise<Set<string>> => {
    const rows: { payment_id: string }[] = await db.dataSource.query(
      `SELECT i.payment_id FROM plan_instalment i JOIN payment_plan p ON p.id = i.plan_id WHERE p.organizer_id = $1 AND i.seq > 1 AND i.seq <= $2`, [shop.organizer.id, days + 1]);
    return new Set(rows.map((r) => r.payment_id));
  };
  // First half of the instalments: clean run. Second half: with injected 500s and timeouts.
  const half = Math.floor((instalments - 1) / 2);
  clock.advance({ days: half, minutes: 1 });
  await run(`clean run (${half} of ${instalments - 1} instalments per plan)`, await allPayments(half));
  await emulator.chaos({ error500: chaosShare / 2, timeout: chaosShare / 4, timeoutAfterCommit: chaosShare / 4 });
  clock.advance({ days: instalments - 1 - half });
  const second = await allPayments(instalments - 1);
  for (const id of await allPayments(half)) second.delete(id);
  await run(`with ${Math.round(chaosShare * 100)} % injected faults (500s, timeouts before and after executing)`, second);
  await emulator.chaos({});
  await runtimes.close();
  await core.close();
  await db.destroy();
  await emulator.close();
}

/**
 * Time as a worker sees it: it goes on during the runs (unknown outcomes come due again after
 * their retry delay while the run goes on, as in production), and jumps ahead to the instalments'
 * due dates and past the last retry delay.
 */
class RunningClock {
  private offset: number;
  constructor(start: string) {
    this.offset = Date.parse(start) - Date.now();
  }
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
  advance(by: { days?: number; minutes?: number }): void {
    this.offset += ((by.days ?? 0) * 1440 + (by.minutes ?? 0)) * 60_000;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
