import { Order, OrderPayment } from '@kassa/core/host';
import { createShop } from '@kassa/testing';
import { confirmToken } from '../../src/shop/checkout-session';
import { placementKey } from '../../src/shop/submission-store';
import { Buyer } from './buyer';
import { buyerCookie, createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

/*
 * A confirm token is bound to its order by core's idempotency key, written by the order's own
 * insert: an order never exists without it, so whatever fails after placing (the payment, the
 * session write, the process), a resubmit of the same form finds that order and never places a
 * second one. The checkout lives in the buyer's sealed cookie, which the confirm POST leaves as it is.
 */
let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp();
});
afterAll(async () => {
  await t.close();
});

async function upToConfirm(): Promise<{ buyer: Buyer; base: string; eventId: string; productId: string }> {
  const shop = await createShop(t.db.dataSource, { price: 1000 });
  await enableManual(t, shop.event);
  const buyer = new Buyer(t.app);
  const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
  await buyer.get(base);
  await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 }));
  await buyer.follow(await buyer.post(`${base}checkout/contact`, { email: 'buyer@example.org' }));
  await buyer.post(`${base}checkout/payment`, { provider: 'manual' });
  await buyer.get(`${base}checkout/confirm`);
  return { buyer, base, eventId: shop.event.id, productId: shop.product.id };
}

/** The buyer's id inside the sealed checkout cookie: the owner of its confirm tokens. */
function buyerId(buyer: Buyer): string {
  return buyerCookie(buyer)!.id!;
}

describe('confirm token and order', () => {
  it('answers a resubmit after a crash between placing and paying with the first order, once its payment has run, never paying twice', async () => {
    const { buyer, base, eventId, productId } = await upToConfirm();
    const token = buyer.field('token')!;
    // The first submission placed the order (with its key) and died before running the payment.
    const first = await t.core.orders.placeOrder({
      eventId, email: 'buyer@example.org', positions: [{ productId }], provider: 'manual',
      idempotencyKey: placementKey(buyerId(buyer), token),
    });
    expect(first.replayed).toBe(false);
    // The resubmit finds it through the key and waits for its payment to have run; here it is
    // moved on a moment later (as a slow first submission would).
    const resubmit = buyer.post(`${base}checkout/confirm`, { token });
    await new Promise((r) => setTimeout(r, 150));
    await t.core.payments.pendPayment(first.payment!.id, { actor: { type: 'user', id: 'test' } });
    const res = await resubmit;
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`${base}order/${first.order.code}/${first.order.secret}/`);
    expect(await t.db.dataSource.manager.countBy(Order, { eventId })).toBe(1);
    // The replay never executed the payment: the only move to pending is the test's.
    const pending = await t.db.dataSource.query(
      "SELECT actor_type FROM log_entry WHERE order_id = $1 AND action = 'kassa.order.payment.pending'", [first.order.id]);
    expect(pending).toEqual([{ actor_type: 'user' }]);
    expect((await t.db.dataSource.manager.findBy(OrderPayment, { orderId: first.order.id })).map((p) => p.state)).toEqual(['pending']);
  });

  it('writes only the order on the confirm POST, and clears the checkout on the next visit', async () => {
    const { buyer, base, eventId } = await upToConfirm();
    const token = buyer.field('token')!;
    const session = async () => buyerCookie(buyer);
    const before = await session();
    // The form's token is the checkout's (derived from it, not stored in the cookie).
    expect(confirmToken(before!.shop![eventId]!)).toBe(token);
    const placed = await buyer.post(`${base}checkout/confirm`, { token });
    expect(placed.statusCode).toBe(303);
    const [order] = await t.db.dataSource.manager.findBy(Order, { eventId });
    expect(order!.idempotencyKey).toBe(placementKey(buyerId(buyer), token));
    expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM shop_submission WHERE token = $1', [token])).toEqual([{ n: 0 }]);
    expect(placed.headers['set-cookie']).toBeUndefined();
    expect(await session()).toEqual(before);
    // Buyers never get a server-side session row: the checkout is all in the cookie.
    expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM http_session')).toEqual([{ n: 0 }]);
    // The next visit notices the order and empties the cart (and a resubmit still gets the same order).
    const again = await buyer.post(`${base}checkout/confirm`, { token });
    expect(again.headers.location).toBe(placed.headers.location);
    await buyer.get(base);
    expect((await session())?.shop?.[eventId]).toBeUndefined();
    const contact = await buyer.get(`${base}checkout/contact`);
    expect(contact.statusCode).toBe(303);
    expect(contact.headers.location).toBe(base);
    expect(await t.db.dataSource.manager.countBy(Order, { eventId })).toBe(1);
  });
});
