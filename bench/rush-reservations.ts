/**
 * The ticket rush of issue 17 on core's cart reservations, against the real PostgreSQL in a fresh
 * schema: BENCH_BUYERS (default 10,000) buyers on BENCH_SEATS (default 1,000) seats, BENCH_CONCURRENCY
 * (default 32) at a time. Each buyer reserves 1 or 2 tickets; of those who get a hold, half place
 * the order, a fifth abandon the cart, the rest walk away and their hold runs out while the test
 * clock moves on. A monitor reads the tickets sold and held, in one statement, throughout: the run
 * fails if they ever exceed the seats. Then late buyers keep coming until the event is sold out:
 * every seat must be sold, none twice. Prints buyers and orders per second and the CPU per
 * operation (Node + PostgreSQL backends). Run:
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/rush-reservations.ts
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createKassaCore } from '../packages/core/src/host';
import { ScriptedProvider, TestClock, createShop, createTestDatabase, providerContextFactory, providerLookup } from '../packages/testing/src/index';
import { envInt } from './lib/core-fixture';
import { probeBackendCpu } from './lib/pg-cpu';

async function inParallel(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await work(next++);
  }));
}

export async function benchRushReservations(): Promise<void> {
  const buyers = envInt('BENCH_BUYERS', 10_000);
  const seats = envInt('BENCH_SEATS', 1_000);
  const concurrency = envInt('BENCH_CONCURRENCY', 32);
  const db = await createTestDatabase({ poolSize: concurrency + 2 });
  const clock = new TestClock('2030-03-01T10:00:00Z');
  const card = new ScriptedProvider({ identifier: 'card' });
  const providers = providerLookup(card);
  const core = createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock });
  try {
    const shop = await createShop(db.dataSource, { quotaSize: seats, event: { reservationMinutes: 30 } });
    const eventId = shop.event.id;
    const productId = shop.product.id;
    await Promise.all(Array.from({ length: concurrency + 2 }, () => db.dataSource.query('SELECT pg_sleep(0.01)')));
    // The monitor has a connection of its own, whose CPU is taken out of the figures.
    const watcher = db.dataSource.createQueryRunner();
    await watcher.connect();
    const [{ pid: watcherPid }] = await watcher.query('SELECT pg_backend_pid() AS pid') as [{ pid: number }];
    const watcherStart = backendCpuMs(watcherPid);
    const pgCpu = await probeBackendCpu(db.dataSource);
    const nodeStart = process.cpuUsage();
    const started = process.hrtime.bigint();

    let worst = 0;
    let samples = 0;
    let running = true;
    const monitor = (async () => {
      while (running) {
        const [row] = await watcher.query(
          `SELECT (SELECT used FROM quota_usage WHERE quota_id = $3) AS sold,
                  (SELECT coalesce(sum(quantity), 0)::int FROM cart_reservation WHERE event_id = $1 AND expires > $2) AS held`,
          [eventId, clock.now().toISOString(), shop.quota.id]) as { sold: number; held: number }[];
        worst = Math.max(worst, row!.sold + row!.held);
        samples++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    let seed = 17;
    const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const n = { reserveCalls: 0, holds: 0, refusedHold: 0, placed: 0, refusedOrder: 0, abandoned: 0, walkedAway: 0, late: 0 };
    const perMinute = Math.max(1, Math.floor(buyers / 60));
    await inParallel(buyers, concurrency, async (i) => {
      if (i % perMinute === 0) clock.advance({ minutes: 1 });
      const cartId = randomUUID();
      const quantity = random() < 0.7 ? 1 : 2;
      const choice = random();
      n.reserveCalls++;
      const held = await core.carts.reserve({ eventId, cartId, lines: [{ productId, quantity }] });
      if (!held.ok) {
        n.refusedHold++;
        return;
      }
      n.holds++;
      if (choice < 0.5) {
        try {
          await core.orders.placeOrder({ eventId, email: null, provider: 'card', cartId, positions: Array.from({ length: quantity }, () => ({ productId })) });
          n.placed++;
        } catch (err) {
          if ((err as { code?: string }).code !== 'ORDER_QUOTA_EXCEEDED') throw err;
          n.refusedOrder++;
        }
      } else if (choice < 0.7) {
        await core.carts.release(cartId);
        n.abandoned++;
      } else n.walkedAway++;
    });
    clock.advance({ minutes: 31 });
    let soldOut = false;
    await inParallel(seats * 2, concurrency, async () => {
      if (soldOut) return;
      const cartId = randomUUID();
      n.reserveCalls++;
      const held = await core.carts.reserve({ eventId, cartId, lines: [{ productId, quantity: 1 }] });
      if (!held.ok) {
        soldOut = true;
        return;
      }
      n.late++;
      await core.orders.placeOrder({ eventId, email: null, provider: 'card', cartId, positions: [{ productId }] });
      n.placed++;
    });
    running = false;
    await monitor;
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const node = process.cpuUsage(nodeStart);
    const nodeMs = (node.user + node.system) / 1000;
    const pgMs = pgCpu.elapsedCpuMs() - (backendCpuMs(watcherPid) - watcherStart);
    await watcher.release();

    const [final] = await db.dataSource.query(
      `SELECT count(*)::int AS sold, count(DISTINCT op.id)::int AS distinct_positions
         FROM order_position op JOIN kassa_order o ON o.id = op.order_id WHERE o.event_id = $1 AND NOT op.canceled`, [eventId]) as { sold: number }[];
    const ops = n.reserveCalls + n.placed + n.abandoned;
    console.log(`rush on cart reservations: ${buyers} buyers (+${n.late} late) on ${seats} seats, c=${concurrency}, ${elapsedS.toFixed(1)} s`);
    console.log(`  ${JSON.stringify(n)}`);
    console.log(`  ${(n.reserveCalls / elapsedS).toFixed(0)} reservations/s, ${(n.placed / elapsedS).toFixed(0)} orders/s`);
    console.log(`  CPU per operation (reserve, place or release): node ${(nodeMs / ops).toFixed(3)} ms + PostgreSQL ${(pgMs / ops).toFixed(3)} ms (${pgCpu.backends} backends)`);
    console.log(`  most sold + held at once: ${worst} of ${seats} (${samples} samples); sold at the end: ${final!.sold}`);
    if (worst > seats) throw new Error(`sold + held reached ${worst} on ${seats} seats`);
    if (final!.sold !== seats) throw new Error(`${final!.sold} tickets sold on ${seats} seats`);
  } finally {
    await core.close();
    await db.destroy();
  }
}

/** CPU milliseconds of one PostgreSQL backend so far (utime + stime from /proc). */
function backendCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

if (require.main === module) {
  benchRushReservations().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
