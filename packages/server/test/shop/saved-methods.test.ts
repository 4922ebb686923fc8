import { createShop, StoredMethodProvider } from '@kassa/testing';
import { Buyer } from './buyer';
import { createShopTestApp, type ShopTestApp } from './shop-test-app';

/*
 * The buyer's saved cards on their order page through HTTP: listed (display details only),
 * removed with the page's CSRF token, never another buyer's, and a removed card is not charged.
 */
const saved = new StoredMethodProvider({ identifier: 'saved' });
let t: ShopTestApp;

beforeAll(async () => { t = await createShopTestApp({ providers: [saved] }); });
afterAll(async () => { await t.close(); });

async function orderWithCard(email: string, reference: string) {
  const shop = await createShop(t.db.dataSource, { price: 3000 });
  await t.core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 2, intervalDays: 30 });
  const placed = await t.core.orders.placeOrder({ eventId: shop.event.id, email, positions: [{ productId: shop.product.id }], provider: 'saved' });
  await t.core.plans.createPlan(placed.order.id, { provider: 'saved', actor: { type: 'system' } });
  const method = await t.core.storedMethods.save(placed.order.id, 'saved', { reference, brand: 'visa', last4: '4242', expMonth: 4, expYear: 2031 });
  await t.core.plans.useMethod(placed.order.id, method.id, { type: 'system' });
  await t.core.payments.executePayment(placed.payment!.id, {});
  const url = `/${shop.organizer.slug}/${shop.event.slug}/order/${placed.order.code}/${placed.order.secret}/`;
  return { order: placed.order, method, url };
}

it('lists the saved card and removes it with the page\'s CSRF token; a forged or foreign remove changes nothing', async () => {
  const a = await orderWithCard('a@example.org', 'pm_buyer_a');
  const b = await orderWithCard('b@example.org', 'pm_buyer_b');
  const buyer = new Buyer(t.app);
  const page = await buyer.get(a.url);
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain('Saved cards');
  expect(page.body).toContain('Visa ····4242');
  expect(page.body).toContain('expires 04/2031');
  expect(page.body).not.toContain('pm_buyer_a');

  // Without the CSRF token: refused.
  const forged = await buyer.post(`${a.url}methods/${a.method.id}/remove`, { _csrf: 'forged' });
  expect(forged.statusCode).toBe(403);
  // B's card through A's order: not removed (not this buyer's).
  await buyer.get(a.url);
  const foreign = await buyer.post(`${a.url}methods/${b.method.id}/remove`, {});
  expect(foreign.statusCode).toBe(303);
  expect((await t.core.storedMethods.listForOrder(b.order.id)).map((m) => m.id)).toEqual([b.method.id]);
  // A wrong secret: no such order.
  await buyer.get(a.url);
  expect((await buyer.post(`${a.url.replace(a.order.secret, 'x'.repeat(32))}methods/${a.method.id}/remove`, {})).statusCode).toBe(404);

  await buyer.get(a.url);
  const removed = await buyer.follow(await buyer.post(`${a.url}methods/${a.method.id}/remove`, {}));
  expect(removed.body).toContain('The card was removed');
  expect(removed.body).not.toContain('Saved cards');
  expect(saved.removed).toContain('pm_buyer_a');
  // A removed card is never charged: the instalment waits for the buyer.
  t.clock.advance({ days: 31 });
  await t.core.chargeRuns.run();
  expect(saved.calls.some((c) => c.reference === 'pm_buyer_a')).toBe(false);
  expect((await t.core.plans.view(a.order.id))!.instalments[1]).toMatchObject({ state: 'action_required', actionReason: 'no_method' });
});
