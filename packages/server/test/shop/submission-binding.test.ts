import { Order } from '@kassa/core';
import { createShop } from '@kassa/testing';
import { Buyer } from './buyer';
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

/*
 * The idempotency ledger binds a confirm token to its order inside the order's own transaction,
 * so an order never exists without its token (a crash between the two cannot let a resubmit place
 * a second order).
 */
let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp();
});
afterAll(async () => {
  await t.close();
});

async function upToConfirm(): Promise<{ buyer: Buyer; base: string; eventId: string }> {
  const shop = await createShop(t.db.dataSource, { price: 1000 });
  await enableManual(t, shop.event);
  const buyer = new Buyer(t.app);
  const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
  await buyer.get(base);
  await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 }));
  await buyer.follow(await buyer.post(`${base}checkout/contact`, { email: 'buyer@example.org' }));
  await buyer.post(`${base}checkout/payment`, { provider: 'manual' });
  await buyer.get(`${base}checkout/confirm`);
  return { buyer, base, eventId: shop.event.id };
}

describe('confirm token and order', () => {
  it('places no order when the token cannot be bound to it, and a later submit places exactly one', async () => {
    const { buyer, base, eventId } = await upToConfirm();
    const token = buyer.field('token')!;
    // Binding the token fails (as a crash there would): the order must go with it.
    await t.db.dataSource.query(`CREATE FUNCTION test_refuse_binding() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.order_id IS NOT NULL THEN RAISE EXCEPTION 'binding refused'; END IF; RETURN NEW; END $$`);
    await t.db.dataSource.query('CREATE TRIGGER test_refuse_binding BEFORE UPDATE ON shop_submission FOR EACH ROW EXECUTE FUNCTION test_refuse_binding()');
    try {
      const refused = await buyer.post(`${base}checkout/confirm`, { token });
      expect(refused.statusCode).toBeGreaterThanOrEqual(400);
      expect(await t.db.dataSource.manager.countBy(Order, { eventId })).toBe(0);
      expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM shop_submission WHERE token = $1', [token])).toEqual([{ n: 0 }]);
    } finally {
      await t.db.dataSource.query('DROP TRIGGER test_refuse_binding ON shop_submission');
      await t.db.dataSource.query('DROP FUNCTION test_refuse_binding()');
    }
    const placed = await buyer.post(`${base}checkout/confirm`, { token });
    expect(placed.statusCode).toBe(303);
    const orders = await t.db.dataSource.manager.findBy(Order, { eventId });
    expect(orders).toHaveLength(1);
    expect(await t.db.dataSource.query('SELECT order_id FROM shop_submission WHERE token = $1', [token])).toEqual([{ order_id: orders[0]!.id }]);
  });
});
