import { money } from '@kassa/core/host';
import { Client } from 'pg';
import { admin, createCoreHarness, type CoreHarness } from './core-harness';

/*
 * A service that locks an order and then decides from its sums must see what the previous lock
 * holder committed. A statement that waits for the lock would re-read the order row but keep its
 * sums from before the wait, so lockOrderWithSums locks first and reads in a second statement.
 * Here another connection holds the order lock while it confirms a payment (what a confirmation
 * does), and createPayment, whose default amount is what is still owed, has to wait for it.
 */
describe('lockOrderWithSums reads after the lock is held', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });

  it('createPayment waiting for the order lock sees the payment confirmed by the holder', async () => {
    const { order } = await h.order(await h.shop({ price: 10_000 }), { provider: 'bank' });
    const part = await h.core.payments.createPayment(order.id, { provider: 'card', amount: money(6000, 'EUR'), actor: admin });

    const other = new Client({ connectionString: h.db.url });
    await other.connect();
    try {
      await other.query(`SET search_path = ${h.db.schema}, public`);
      await other.query('BEGIN');
      await other.query('SELECT id FROM kassa_order WHERE id = $1 FOR UPDATE', [order.id]);
      await other.query(`UPDATE order_payment SET state = 'confirmed', payment_date = now() WHERE id = $1`, [part.id]);

      const waiting = h.core.payments.createPayment(order.id, { provider: 'card', actor: admin });
      // Commit only once createPayment is really queued behind the lock.
      for (let i = 0; i < 100; i++) {
        const [row] = (await other.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE '%kassa_order%'`)).rows;
        if (row.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await other.query('COMMIT');
      expect(await waiting).toMatchObject({ amount: 4000, currency: 'EUR' });
    } finally {
      await other.end();
    }
  });
});
