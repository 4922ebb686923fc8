import { Order } from '@kassa/core/host';
import { createShop, type ShopFixture } from '@kassa/testing';
import { Buyer } from './buyer';
import { buyerCookie, createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

/*
 * The confirm form's idempotency token follows from the checkout (confirmToken), so showing the
 * confirm page writes no cookie: every confirm page of an unchanged checkout shows the same token,
 * a changed checkout another, and a placed checkout is noticed before its hold would be renewed.
 */
let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp();
});
afterAll(async () => {
  await t.close();
});

async function newShop(opts: Parameters<typeof createShop>[1] = {}): Promise<{ shop: ShopFixture; base: string }> {
  const shop = await createShop(t.db.dataSource, { price: 1000, ...opts });
  await enableManual(t, shop.event);
  return { shop, base: `/${shop.organizer.slug}/${shop.event.slug}/` };
}

/** Cart, contact and payment done; the answer of the payment POST (a redirect to the confirm page). */
async function upToPayment(buyer: Buyer, shop: ShopFixture, base: string, email = 'ada@example.org') {
  await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 }));
  await buyer.follow(await buyer.post(`${base}checkout/contact`, { email }));
  return buyer.post(`${base}checkout/payment`, { provider: 'manual' });
}

async function heldRows(eventId: string): Promise<number> {
  const [row] = await t.db.dataSource.query('SELECT coalesce(sum(quantity), 0)::int AS n FROM cart_reservation WHERE event_id = $1 AND expires > $2',
    [eventId, t.clock.now().toISOString()]);
  return row.n;
}

describe('the confirm token', () => {
  it('is shown without writing the cookie, the same on every confirm page of the checkout, and places one order under a double submit', async () => {
    const { shop, base } = await newShop();
    const buyer = new Buyer(t.app);
    expect((await upToPayment(buyer, shop, base)).statusCode).toBe(303);
    const cookie = buyer.cookie('kassa_checkout');
    const first = await buyer.get(`${base}checkout/confirm`);
    expect(first.statusCode).toBe(200);
    expect(first.headers['set-cookie']).toBeUndefined();
    const token = buyer.field('token')!;
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // A reload: the same cookie, the same token.
    expect((await buyer.get(`${base}checkout/confirm`)).headers['set-cookie']).toBeUndefined();
    expect(buyer.field('token')).toBe(token);
    expect(buyer.cookie('kassa_checkout')).toBe(cookie);

    const [a, b] = await Promise.all([buyer.post(`${base}checkout/confirm`, { token }), buyer.post(`${base}checkout/confirm`, { token })]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    expect(b.headers.location).toBe(a.headers.location);
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
  });

  it('changes with the checkout: a confirm form shown before another tab changed it is refused, nothing placed', async () => {
    const { shop, base } = await newShop();
    const buyer = new Buyer(t.app);
    await buyer.follow(await upToPayment(buyer, shop, base));
    const shown = buyer.field('token')!;
    // Another tab: a new email, same payment method.
    await buyer.follow(await buyer.post(`${base}checkout/contact`, { email: 'grace@example.org' }));
    const stale = await buyer.post(`${base}checkout/confirm`, { token: shown });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('grace@example.org');
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(0);
    // The page shown instead carries the new checkout's token, which places the order with the new email.
    const fresh = buyer.field('token')!;
    expect(fresh).not.toBe(shown);
    expect((await buyer.post(`${base}checkout/confirm`, { token: fresh })).statusCode).toBe(303);
    expect(await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id })).toMatchObject({ email: 'grace@example.org' });
  });

  it('is a new one for a new cart of the same tickets after an order: a second order, not the first one again', async () => {
    const { shop, base } = await newShop();
    const buyer = new Buyer(t.app);
    await buyer.follow(await upToPayment(buyer, shop, base));
    const firstToken = buyer.field('token')!;
    const first = await buyer.post(`${base}checkout/confirm`, { token: firstToken });
    expect(first.statusCode).toBe(303);
    // Straight back to the cart (an event page open in another tab): the same tickets, email and method.
    t.clock.advance({ seconds: 1 });
    await buyer.follow(await upToPayment(buyer, shop, base));
    const secondToken = buyer.field('token')!;
    expect(secondToken).not.toBe(firstToken);
    const second = await buyer.post(`${base}checkout/confirm`, { token: secondToken });
    expect(second.statusCode).toBe(303);
    expect(second.headers.location).not.toBe(first.headers.location);
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(2);
  });

  it('of a placed checkout: its confirm page within the hold answers with the same order; once the hold ran out, the order is noticed and nothing is held again', async () => {
    const { shop, base } = await newShop({ event: { reservationMinutes: 20 } });
    const buyer = new Buyer(t.app);
    await buyer.follow(await upToPayment(buyer, shop, base));
    const token = buyer.field('token')!;
    const placed = await buyer.post(`${base}checkout/confirm`, { token });
    expect(placed.statusCode).toBe(303);
    expect(await heldRows(shop.event.id)).toBe(0);

    // Back to the confirm page while the hold lasts: the same checkout and token, whose form names the placed order.
    const again = await buyer.get(`${base}checkout/confirm`);
    expect(again.statusCode).toBe(200);
    expect(buyer.field('token')).toBe(token);
    expect((await buyer.post(`${base}checkout/confirm`, { token })).headers.location).toBe(placed.headers.location);

    // After the hold: the page looks the order up before it would hold the cart again.
    t.clock.advance({ minutes: 21 });
    const late = await buyer.get(`${base}checkout/confirm`);
    expect(late.statusCode).toBe(303);
    expect(late.headers.location).toBe(base);
    expect(buyerCookie(buyer)?.shop?.[shop.event.id]).toBeUndefined();
    expect(await heldRows(shop.event.id)).toBe(0);
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
  });
});
