import { randomUUID } from 'node:crypto';
import { createShop, createTestDatabase, type TestDatabase } from '@kassa/testing';
import { ReservationBatcher } from '../../src/persistence/cart-reservation.store';

/**
 * The look without lock (cart-reservation.store.ts) is skipped while the last reading under lock is
 * fresh and far from selling out. A request whose own time is a little before that reading (a batch
 * started while the request was on its way, common under concurrency) is answered without it too;
 * a reading older than a second is not trusted.
 */
describe('the reservation look', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => { await db.destroy(); });

  it('is skipped on a fresh reading taken after the request\'s time, and sent again once the reading is old', async () => {
    const shop = await createShop(db.dataSource, { quotaSize: 10_000 });
    const batcher = new ReservationBatcher(db.dataSource.manager);
    // The statements the batcher sends through the pool, by prepared-statement name.
    const pool = (db.dataSource.driver as unknown as { master: { query: (...args: unknown[]) => unknown } }).master;
    const original = pool.query.bind(pool);
    const sent: string[] = [];
    const spy = jest.spyOn(pool, 'query').mockImplementation((...args: unknown[]) => {
      const name = (args[0] as { name?: string } | undefined)?.name;
      if (name) sent.push(name);
      return original(...args);
    });
    try {
      const at = new Date('2030-03-01T10:00:00.000Z');
      const line = [{ productId: shop.product.id, quantity: 1 }];
      const first = await batcher.reserve(randomUUID(), shop.event.id, line, at);
      expect(first.ok).toBe(true);
      expect(sent).toEqual(['kassa_cart_reserve_look_only', 'kassa_cart_reserve_batch']);

      sent.length = 0;
      const earlier = await batcher.reserve(randomUUID(), shop.event.id, line, new Date(at.getTime() - 300));
      expect(earlier.ok).toBe(true);
      expect(sent).toEqual(['kassa_cart_reserve_batch']);

      sent.length = 0;
      const later = await batcher.reserve(randomUUID(), shop.event.id, line, new Date(at.getTime() + 5_000));
      expect(later.ok).toBe(true);
      expect(sent).toEqual(['kassa_cart_reserve_look_only', 'kassa_cart_reserve_batch']);
    } finally {
      spy.mockRestore();
      await batcher.close();
    }
  });
});
