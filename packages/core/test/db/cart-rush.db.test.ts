import { randomUUID } from 'node:crypto';
import { createCoreHarness, type CoreHarness } from './core-harness';

/*
 * The ticket rush of issue 17, scaled to run in seconds: 1,000 buyers on 100 seats, 32 at a time,
 * each reserving 1–2 tickets; of those who got a hold, some place the order, some abandon the cart,
 * some walk away (their hold expires while the clock runs on). A monitor reads, in one statement,
 * the tickets sold and held the whole time: never more than the seats. Then late buyers keep coming
 * until the event is sold out: every seat is sold, none twice. bench/rush-reservations.ts runs the
 * full-size version (10,000 buyers on 1,000 seats).
 */

const SEATS = 100;
const BUYERS = 1000;
const CONCURRENCY = 32;

/** A small seeded generator, so a failing run can be repeated. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function inParallel(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await work(next++);
  }));
}

describe('ticket rush on cart reservations (real PostgreSQL, concurrent)', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  it('never sells or holds more than the seats, and sells every seat when enough buyers complete', async () => {
    const shop = await h.shop({ quotaSize: SEATS, event: { reservationMinutes: 30 } });
    const eventId = shop.event.id;
    const productId = shop.product.id;
    const random = lcg(17);
    const seen: { sold: number; held: number }[] = [];
    let running = true;
    const monitor = (async () => {
      while (running) {
        const [row] = await h.ds.query(
          `SELECT (SELECT count(*)::int FROM order_position op JOIN kassa_order o ON o.id = op.order_id
                    WHERE o.event_id = $1 AND NOT op.canceled AND o.status IN ('pending', 'paid')) AS sold,
                  (SELECT coalesce(sum(quantity), 0)::int FROM cart_reservation WHERE event_id = $1 AND expires > $2) AS held`,
          [eventId, h.clock.now().toISOString()]);
        seen.push(row);
      }
    })();
    // The clock runs on during the rush (a minute per 40 buyers): holds of walked-away buyers expire mid-run.
    const outcomes = { placed: 0, abandoned: 0, walkedAway: 0, refusedHold: 0, refusedOrder: 0 };
    await inParallel(BUYERS, CONCURRENCY, async (i) => {
      if (i % 40 === 0) h.clock.advance({ minutes: 1 });
      const cartId = randomUUID();
      const quantity = random() < 0.7 ? 1 : 2;
      const choice = random();
      const held = await h.core.carts.reserve({ eventId, cartId, lines: [{ productId, quantity }] });
      if (!held.ok) {
        outcomes.refusedHold++;
        return;
      }
      if (choice < 0.5) {
        try {
          await h.core.orders.placeOrder({
            eventId, email: null, provider: 'card', cartId, positions: Array.from({ length: quantity }, () => ({ productId })),
          });
          outcomes.placed++;
        } catch (err) {
          // A buyer holding their tickets may only be refused once the hold ran out.
          if ((err as { code?: string }).code !== 'ORDER_QUOTA_EXCEEDED') throw err;
          outcomes.refusedOrder++;
        }
      } else if (choice < 0.7) {
        await h.core.carts.release(cartId);
        outcomes.abandoned++;
      } else outcomes.walkedAway++;
    });
    // Everyone who walked away has run out by now; late buyers take what is left, one ticket each.
    h.clock.advance({ minutes: 31 });
    let late = 0;
    let soldOut = false;
    await inParallel(SEATS * 3, CONCURRENCY, async () => {
      if (soldOut) return;
      late++;
      const cartId = randomUUID();
      const held = await h.core.carts.reserve({ eventId, cartId, lines: [{ productId, quantity: 1 }] });
      if (!held.ok) {
        soldOut = true;
        return;
      }
      await h.core.orders.placeOrder({ eventId, email: null, provider: 'card', cartId, positions: [{ productId }] });
    });
    running = false;
    await monitor;

    expect(outcomes.placed).toBeGreaterThan(0);
    expect(outcomes.abandoned).toBeGreaterThan(0);
    expect(outcomes.walkedAway).toBeGreaterThan(0);
    expect(outcomes.refusedHold).toBeGreaterThan(0);
    expect(late).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(10);
    const worst = Math.max(...seen.map((s) => s.sold + s.held));
    expect(worst).toBeLessThanOrEqual(SEATS);
    const [final] = await h.ds.query(
      `SELECT count(*)::int AS sold, (SELECT used FROM quota_usage WHERE quota_id = $2) AS counter
         FROM order_position op JOIN kassa_order o ON o.id = op.order_id WHERE o.event_id = $1 AND NOT op.canceled`, [eventId, shop.quota.id]);
    expect(final).toEqual({ sold: SEATS, counter: SEATS });
  }, 120_000);
});
