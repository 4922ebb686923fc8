import { Order } from '@kassa/core/host';
import { createShop } from '@kassa/testing';
import { Buyer } from './buyer';
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp({ placeOrderLimit: 1 });
});
afterAll(async () => {
  await t.close();
});

it('limits placing orders per address, refusing with RATE_LIMITED and writing nothing', async () => {
  const shop = await createShop(t.db.dataSource);
  await enableManual(t, shop.event);
  const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
  const confirmPost = async (email: string) => {
    const buyer = new Buyer(t.app);
    await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 }));
    await buyer.follow(await buyer.post(`${base}checkout/contact`, { email }));
    await buyer.follow(await buyer.post(`${base}checkout/payment`, { provider: 'manual' }));
    return buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! }, { json: true });
  };
  expect((await confirmPost('first@example.org')).statusCode).toBe(303);
  const second = await confirmPost('second@example.org');
  expect(second.statusCode).toBe(429);
  expect(second.json().error.code).toBe('RATE_LIMITED');
  expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
});
