import { Order } from '@kassa/core/host';
import { createShop, type ShopFixture } from '@kassa/testing';
import { Buyer } from './buyer';
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp();
});
afterAll(async () => {
  await t.close();
});

function baseOf(shop: ShopFixture): string {
  return `/${shop.organizer.slug}/${shop.event.slug}/`;
}

/** Puts `quantity` tickets in a new buyer's cart; returns the buyer and the answer to the cart POST. */
async function addToCart(shop: ShopFixture, quantity: number) {
  const buyer = new Buyer(t.app);
  await buyer.get(baseOf(shop));
  const res = await buyer.post(`${baseOf(shop)}cart`, { [`qty_${shop.product.id}`]: quantity });
  return { buyer, res };
}

async function heldRows(eventId: string): Promise<number> {
  const [row] = await t.db.dataSource.query('SELECT coalesce(sum(quantity), 0)::int AS n FROM cart_reservation WHERE event_id = $1 AND expires > $2',
    [eventId, t.clock.now().toISOString()]);
  return row.n;
}

/** A hold's end as the shop shows it: now + minutes, rounded up to the minute (holds are counted per minute). */
function expectedUntil(minutes: number, timeZone: string): string {
  const ms = t.clock.now().getTime() + minutes * 60_000;
  return new Intl.DateTimeFormat('en', { timeStyle: 'short', timeZone }).format(new Date(Math.ceil(ms / 60_000) * 60_000));
}

/** The "held until" line of a checkout page, or null. */
function heldUntil(body: string): string | null {
  return /data-testid="held-until">[^<]*<strong>([^<]+)<\/strong>/.exec(body)?.[1] ?? null;
}

describe('cart reservations in the shop', () => {
  it('adding to the cart holds the tickets; every checkout step says until when; the order uses the hold', async () => {
    const shop = await createShop(t.db.dataSource, { quotaSize: 5, event: { reservationMinutes: 20, timezone: 'UTC' } });
    await enableManual(t, shop.event);
    const base = baseOf(shop);
    const { buyer, res } = await addToCart(shop, 3);
    expect(res.statusCode).toBe(303);
    expect(await heldRows(shop.event.id)).toBe(3);
    const until = expectedUntil(20, 'UTC');

    const contact = await buyer.follow(res);
    expect(heldUntil(contact.body)).toBe(until);
    const payment = await buyer.follow(await buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' }));
    expect(heldUntil(payment.body)).toBe(until);
    const confirm = await buyer.follow(await buyer.post(`${base}checkout/payment`, { provider: 'manual' }));
    expect(heldUntil(confirm.body)).toBe(until);

    // Meanwhile another buyer sees only what is not held, and cannot add more.
    const other = await addToCart(shop, 3);
    expect(other.res.statusCode).toBe(409);
    expect(other.res.body).toContain('only 2 left, you asked for 3');
    expect((await addToCart(shop, 2)).res.statusCode).toBe(303);
    expect(await heldRows(shop.event.id)).toBe(5);

    const placed = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });
    expect(placed.statusCode).toBe(303);
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
    // The hold became the order's quota use: 3 sold, 2 still held by the other cart.
    expect(await heldRows(shop.event.id)).toBe(2);
  });

  it('the event page says when the remaining tickets are in other buyers\' carts, and the buyer\'s own hold stays theirs', async () => {
    const shop = await createShop(t.db.dataSource, { quotaSize: 2 });
    const { buyer } = await addToCart(shop, 2);
    const stranger = new Buyer(t.app);
    // The page of a visitor without a cart is cached for a second: move past it.
    t.clock.advance({ seconds: 2 });
    await new Promise((r) => setTimeout(r, 1100));
    const page = await stranger.get(baseOf(shop));
    expect(page.body).toContain('data-testid="reserved"');
    expect(page.body).toContain('in other buyers\' carts');
    expect(page.body).not.toContain('Sold out');
    const own = await buyer.get(baseOf(shop));
    expect(own.body).not.toContain('data-testid="reserved"');
    expect(own.body).toContain('2 left');
    // The owner may change the cart within the hold (their own 2 are not counted against them).
    const changed = await buyer.post(`${baseOf(shop)}cart`, { [`qty_${shop.product.id}`]: 1 });
    expect(changed.statusCode).toBe(303);
    expect(await heldRows(shop.event.id)).toBe(1);
  });

  it('after the hold ran out, a step holds the cart again when the tickets are still there', async () => {
    const shop = await createShop(t.db.dataSource, { quotaSize: 4, event: { reservationMinutes: 10 } });
    await enableManual(t, shop.event);
    const base = baseOf(shop);
    const { buyer, res } = await addToCart(shop, 2);
    await buyer.follow(res);
    t.clock.advance({ minutes: 11 });
    expect(await heldRows(shop.event.id)).toBe(0);
    const contact = await buyer.get(`${base}checkout/contact`);
    expect(contact.statusCode).toBe(200);
    expect(await heldRows(shop.event.id)).toBe(2);
    const until = expectedUntil(10, shop.event.timezone);
    expect(heldUntil(contact.body)).toBe(until);
    await buyer.follow(await buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' }));
    await buyer.follow(await buyer.post(`${base}checkout/payment`, { provider: 'manual' }));
    expect((await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! })).statusCode).toBe(303);
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
    expect(await heldRows(shop.event.id)).toBe(0);
  });

  it('after the hold ran out and others took tickets, the buyer is told and the cart is cut to what is left', async () => {
    const shop = await createShop(t.db.dataSource, { quotaSize: 3, event: { reservationMinutes: 10 } });
    await enableManual(t, shop.event);
    const base = baseOf(shop);
    const a = await addToCart(shop, 2);
    await a.buyer.follow(a.res);
    await a.buyer.follow(await a.buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' }));
    await a.buyer.follow(await a.buyer.post(`${base}checkout/payment`, { provider: 'manual' }));
    t.clock.advance({ minutes: 11 });
    const b = await addToCart(shop, 2);
    expect(b.res.statusCode).toBe(303);

    const step = await a.buyer.get(`${base}checkout/confirm`);
    expect(step.statusCode).toBe(303);
    expect(step.headers.location).toBe(base);
    const page = await a.buyer.follow(step);
    expect(page.body).toContain('not all of your tickets are still available');
    expect(page.body).toContain(`name="qty_${shop.product.id}" id="qty_${shop.product.id}" value="1"`);
    expect(await heldRows(shop.event.id)).toBe(3);
    // The changed cart drops the payment choice and the old confirm form: the buyer goes through them again.
    expect((await a.buyer.get(`${base}checkout/confirm`)).headers.location).toBe(`${base}checkout/payment`);

    // A third buyer finds nothing; after B's hold also ran out, a buyer who lost everything is told so.
    expect((await addToCart(shop, 1)).res.statusCode).toBe(409);
    t.clock.advance({ minutes: 11 });
    const c = await addToCart(shop, 3);
    expect(c.res.statusCode).toBe(303);
    const lost = await b.buyer.get(`${base}checkout/contact`);
    expect(lost.headers.location).toBe(base);
    expect((await b.buyer.follow(lost)).body).toContain('Your cart is now empty');
  });

  it('a confirm sent after the hold ran out takes only what is free: refused and adjusted when taken, placed when free', async () => {
    const shop = await createShop(t.db.dataSource, { quotaSize: 2, event: { reservationMinutes: 10 } });
    await enableManual(t, shop.event);
    const base = baseOf(shop);
    const a = await addToCart(shop, 2);
    await a.buyer.follow(a.res);
    await a.buyer.follow(await a.buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' }));
    await a.buyer.follow(await a.buyer.post(`${base}checkout/payment`, { provider: 'manual' }));
    const token = a.buyer.field('token')!;
    t.clock.advance({ minutes: 11 });
    // Someone else holds one of the two now: A's confirm (sent from the page shown before expiry) is refused, nothing sold.
    expect((await addToCart(shop, 1)).res.statusCode).toBe(303);
    const refused = await a.buyer.post(`${base}checkout/confirm`, { token });
    expect(refused.headers.location).toBe(base);
    expect((await a.buyer.follow(refused)).body).toContain('not all of your tickets are still available');
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(0);
    expect(await heldRows(shop.event.id)).toBe(2);
    // With the hold expired but the tickets free, the confirm goes through (held + free).
    await a.buyer.get(`${base}checkout/payment`);
    await a.buyer.follow(await a.buyer.post(`${base}checkout/payment`, { provider: 'manual' }));
    t.clock.advance({ minutes: 11 });
    expect((await a.buyer.post(`${base}checkout/confirm`, { token: a.buyer.field('token')! })).statusCode).toBe(303);
    const [sold] = await t.db.dataSource.query(
      'SELECT count(*)::int AS n FROM order_position op JOIN kassa_order o ON o.id = op.order_id WHERE o.event_id = $1', [shop.event.id]);
    expect(sold.n).toBe(1);
  });
});
