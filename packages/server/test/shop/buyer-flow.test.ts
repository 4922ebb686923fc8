import { OrderPayment, Order } from '@kassa/core/host';
import { createProduct, createQuota, createShop, type ShopFixture } from '@kassa/testing';
import { Buyer } from './buyer';

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(() => undefined, (err: { code?: string }) => err.code);
}
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Walks the flow up to the confirm page; returns the buyer and the event's base URL. */
async function checkoutUpToConfirm(shop: ShopFixture, quantity = 2, email = 'buyer@example.org'): Promise<{ buyer: Buyer; base: string }> {
  const buyer = new Buyer(t.app);
  const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
  await buyer.get(base);
  const cart = await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: quantity });
  expect(cart.statusCode).toBe(303);
  await buyer.follow(cart);
  const contact = await buyer.post(`${base}checkout/contact`, { email });
  expect(contact.statusCode).toBe(303);
  await buyer.follow(contact);
  return { buyer, base };
}

describe('buying with the manual provider', () => {
  it('goes from the event page to a placed order with a pending manual payment', async () => {
    const shop = await createShop(t.db.dataSource, { price: 2500, quotaSize: 10 });
    await enableManual(t, shop.event);
    const buyer = new Buyer(t.app);
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;

    const page = await buyer.get(base);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Ticket');
    expect(page.body).toContain('€25.00');
    expect(page.body).toContain('10 left');

    const cart = await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 2 });
    expect(cart.headers.location).toBe(`${base}checkout/contact`);
    const contactPage = await buyer.follow(cart);
    expect(contactPage.body).toContain('€50.00');
    // Back on the event page, the buyer's own cart is shown (not the page anonymous visitors get).
    expect((await buyer.get(base)).body).toContain(`name="qty_${shop.product.id}" id="qty_${shop.product.id}" value="2"`);
    await buyer.get(`${base}checkout/contact`);

    const contact = await buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' });
    expect(contact.headers.location).toBe(`${base}checkout/payment`);
    const paymentPage = await buyer.follow(contact);
    expect(paymentPage.statusCode).toBe(200);
    expect(paymentPage.body).toContain('Pay at the box office');
    expect(paymentPage.body).not.toContain('value="free"');

    const chosen = await buyer.post(`${base}checkout/payment`, { provider: 'manual' });
    expect(chosen.headers.location).toBe(`${base}checkout/confirm`);
    const confirm = await buyer.follow(chosen);
    expect(confirm.body).toContain('ada@example.org');
    expect(confirm.body).toContain('€50.00');

    const placed = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });
    expect(placed.statusCode).toBe(303);
    const location = String(placed.headers.location);
    expect(location).toMatch(new RegExp(`^${base}order/[A-Z0-9]+/[A-Za-z0-9_-]+/$`));

    const order = await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id });
    expect(order).toMatchObject({ total: 5000, currency: 'EUR', status: 'pending', email: 'ada@example.org' });
    const payments = await t.db.dataSource.manager.findBy(OrderPayment, { orderId: order.id });
    expect(payments.map((p) => [p.provider, p.state, p.amount])).toEqual([['manual', 'pending', 5000]]);

    const orderPage = await buyer.follow(placed);
    expect(orderPage.statusCode).toBe(200);
    expect(orderPage.body).toContain(order.code);
    expect(orderPage.body).toContain('Awaiting payment');
    expect(orderPage.body).toContain('Bring cash to the box office');
    expect(orderPage.body).toContain('€50.00');

    // The checkout is finished: the event page no longer pre-fills the cart.
    const again = await buyer.get(base);
    expect(again.body).toContain(`name="qty_${shop.product.id}" id="qty_${shop.product.id}" value="0"`);
  });

  it('adds the payment fee the organizer configured, computed on the server', async () => {
    const shop = await createShop(t.db.dataSource, { price: 1000 });
    await enableManual(t, shop.event, { _feeAbs: 150 });
    const { buyer, base } = await checkoutUpToConfirm(shop, 1);
    expect(buyer.lastPage).toContain('€1.50');
    await buyer.post(`${base}checkout/payment`, { provider: 'manual' });
    const confirm = await buyer.get(`${base}checkout/confirm`);
    expect(confirm.body).toContain('€11.50');
    await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });
    const order = await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id });
    expect(order.total).toBe(1150);
  });
});

describe('a product withdrawn during checkout', () => {
  it('is taken out of the cart, and the buyer is told on the event page', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    const extra = await createProduct(t.db.dataSource, shop.event.id, { name: 'Dinner', price: 3000, position: 1 });
    await createQuota(t.db.dataSource, shop.event.id, [extra], 10, 'Dinner quota');
    const buyer = new Buyer(t.app);
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1, [`qty_${extra.id}`]: 1 }));
    await t.db.dataSource.query('UPDATE product SET active = false WHERE id = $1', [extra.id]);
    await new Promise((r) => setTimeout(r, 1100)); // the catalog is cached for a second
    const res = await buyer.get(`${base}checkout/contact`);
    expect(res.headers.location).toBe(base);
    const page = await buyer.follow(res);
    expect(page.body).toContain('no longer on sale and were removed');
    expect(page.body).not.toContain('Dinner');
    expect(page.body).toContain(`name="qty_${shop.product.id}" id="qty_${shop.product.id}" value="1"`);
  });
});

describe('free orders', () => {
  it('skips the payment choice and confirms the order at once', async () => {
    const shop = await createShop(t.db.dataSource, { price: 0 });
    const { buyer, base } = await checkoutUpToConfirm(shop, 1);
    // The payment step redirected straight to confirm (the free provider is implicit).
    expect(buyer.lastPage).toContain('Review and place your order');
    const placed = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });
    expect(placed.statusCode).toBe(303);
    const orderPage = await buyer.follow(placed);
    expect(orderPage.body).toContain('Your order is paid');
    const order = await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id });
    expect(order).toMatchObject({ status: 'paid', total: 0 });
    const payments = await t.db.dataSource.manager.findBy(OrderPayment, { orderId: order.id });
    expect(payments.map((p) => [p.provider, p.state])).toEqual([['free', 'confirmed']]);
  });
});

describe('double submit', () => {
  it('places one order for two concurrent confirm posts with the same token', async () => {
    const shop = await createShop(t.db.dataSource, { price: 1000 });
    await enableManual(t, shop.event);
    const { buyer, base } = await checkoutUpToConfirm(shop, 1);
    await buyer.post(`${base}checkout/payment`, { provider: 'manual' });
    await buyer.get(`${base}checkout/confirm`);
    const token = buyer.field('token')!;
    const [a, b] = await Promise.all([
      buyer.post(`${base}checkout/confirm`, { token }),
      buyer.post(`${base}checkout/confirm`, { token }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    expect(a.headers.location).toBe(b.headers.location);
    // A third, late resubmit (the browser's "resend form") gets the same order too.
    const c = await buyer.post(`${base}checkout/confirm`, { token });
    expect(c.headers.location).toBe(a.headers.location);
    const orders = await t.db.dataSource.manager.findBy(Order, { eventId: shop.event.id });
    expect(orders).toHaveLength(1);
    // One payment, executed once: the duplicate never reached the provider.
    const payments = await t.db.dataSource.manager.findBy(OrderPayment, { orderId: orders[0]!.id });
    expect(payments.map((p) => p.state)).toEqual(['pending']);
  });

  it('refuses a token replayed from another browser session without revealing the order', async () => {
    const shop = await createShop(t.db.dataSource, { price: 1000 });
    await enableManual(t, shop.event);
    const first = await checkoutUpToConfirm(shop, 1);
    await first.buyer.post(`${first.base}checkout/payment`, { provider: 'manual' });
    await first.buyer.get(`${first.base}checkout/confirm`);
    const token = first.buyer.field('token')!;
    const placed = await first.buyer.post(`${first.base}checkout/confirm`, { token });
    expect(placed.statusCode).toBe(303);

    const other = await checkoutUpToConfirm(shop, 1, 'mallory@example.org');
    await other.buyer.post(`${other.base}checkout/payment`, { provider: 'manual' });
    await other.buyer.get(`${other.base}checkout/confirm`);
    const replay = await other.buyer.post(`${other.base}checkout/confirm`, { token });
    // The token is not the one this session's confirm page shows: its own confirm page again.
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('Please complete the confirm step first');
    expect(replay.body).not.toContain(String(placed.headers.location));
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
  });
});

describe('amounts come from the server', () => {
  it('refuses posted prices and totals as unknown fields, naming them', async () => {
    const shop = await createShop(t.db.dataSource, { price: 4000 });
    await enableManual(t, shop.event);
    const buyer = new Buyer(t.app);
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    const res = await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1, price: 1 }, { json: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED', params: { field: 'price' } });
  });

  it('charges the price of the product at the time of placing, whatever the pages showed before', async () => {
    const shop = await createShop(t.db.dataSource, { price: 4000 });
    await enableManual(t, shop.event);
    const { buyer, base } = await checkoutUpToConfirm(shop, 2);
    await buyer.post(`${base}checkout/payment`, { provider: 'manual' });
    await buyer.get(`${base}checkout/confirm`);
    expect(buyer.lastPage).toContain('€80.00');
    const token = buyer.field('token')!;
    await t.db.dataSource.query('UPDATE product SET price = 4500 WHERE id = $1', [shop.product.id]);
    const tampered = await buyer.post(`${base}checkout/confirm`, { token, total: 1 }, { json: true });
    expect(tampered.statusCode).toBe(400);
    expect(tampered.json().error.params.field).toBe('total');
    await buyer.post(`${base}checkout/confirm`, { token });
    const order = await t.db.dataSource.manager.findOneByOrFail(Order, { eventId: shop.event.id });
    expect(order.total).toBe(9000);
  });
});

describe('malformed bodies', () => {
  it('answers 400 naming the field, as JSON for API clients and on the form for browsers', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    const { buyer, base } = await checkoutUpToConfirm(shop, 1);

    const json = await buyer.post(`${base}checkout/contact`, { email: 'not-an-email' }, { json: true });
    expect(json.statusCode).toBe(400);
    expect(json.json().error).toMatchObject({ code: 'VALIDATION_FAILED', params: { field: 'email' } });

    const html = await buyer.post(`${base}checkout/contact`, { email: 'not-an-email' });
    expect(html.statusCode).toBe(400);
    expect(html.body).toContain('email');
    expect(html.body).toContain('has-error');
    expect(html.body).toContain('value="not-an-email"');

    const qty = await new Buyer(t.app).post(`${base}cart`, { [`qty_${shop.product.id}`]: 'two' }, { json: true });
    expect(qty.statusCode).toBe(400);
    expect(qty.json().error.params.field).toBe(`qty_${shop.product.id}`);

    const tooMany = await new Buyer(t.app).post(`${base}cart`, { [`qty_${shop.product.id}`]: 999 }, { json: true });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.params.field).toBe(`qty_${shop.product.id}`);

    const token = await buyer.post(`${base}checkout/confirm`, { token: 'not-a-uuid' }, { json: true });
    expect(token.statusCode).toBe(400);
    expect(token.json().error.params.field).toBe('token');
  });

  it('answers 404 for an unknown organizer or event, and refuses a cart for an event not on sale', async () => {
    const shop = await createShop(t.db.dataSource, { event: { live: false } });
    const buyer = new Buyer(t.app);
    expect((await buyer.get(`/${shop.organizer.slug}/nope/`)).statusCode).toBe(404);
    expect((await buyer.get(`/nobody/${shop.event.slug}/`)).statusCode).toBe(404);
    const page = await buyer.get(`/${shop.organizer.slug}/${shop.event.slug}/`);
    expect(page.body).toContain('not open for sale');
    const res = await buyer.post(`/${shop.organizer.slug}/${shop.event.slug}/cart`, { [`qty_${shop.product.id}`]: 1 });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('This event is not on sale');
  });

  it('refuses an empty cart with a message on the event page', async () => {
    const shop = await createShop(t.db.dataSource);
    const buyer = new Buyer(t.app);
    const res = await buyer.post(`/${shop.organizer.slug}/${shop.event.slug}/cart`, { [`qty_${shop.product.id}`]: 0 });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Your cart is empty');
  });
});

describe('sold out', () => {
  it('shows a sold-out product and refuses to put it in the cart', async () => {
    const shop = await createShop(t.db.dataSource, { quotaSize: 1 });
    await enableManual(t, shop.event);
    const other = await createProduct(t.db.dataSource, shop.event.id, { name: 'Workshop', price: 500, position: 1 });
    await createQuota(t.db.dataSource, shop.event.id, [other], 3, 'Workshop quota');
    await t.core.orders.placeOrder({ eventId: shop.event.id, email: 'first@example.org', positions: [{ productId: shop.product.id }], provider: 'manual' });

    const buyer = new Buyer(t.app);
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    const page = await buyer.get(base);
    expect(page.body).toContain('Sold out');
    expect(page.body).toContain('3 left');

    const res = await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('Ticket: only 0 left, you asked for 1');
  });

  it('refuses at confirm when the last ticket went while the buyer was checking out, writing nothing', async () => {
    const shop = await createShop(t.db.dataSource, { quotaSize: 1 });
    await enableManual(t, shop.event);
    const { buyer, base } = await checkoutUpToConfirm(shop, 1);
    await buyer.post(`${base}checkout/payment`, { provider: 'manual' });
    await buyer.get(`${base}checkout/confirm`);
    // While the buyer's cart holds the ticket nobody else gets it; once the hold ran out, someone may.
    expect(await errorCode(t.core.orders.placeOrder({ eventId: shop.event.id, email: 'quick@example.org', positions: [{ productId: shop.product.id }], provider: 'manual' })))
      .toBe('ORDER_QUOTA_EXCEEDED');
    t.clock.advance({ minutes: shop.event.reservationMinutes + 1 });
    await t.core.orders.placeOrder({ eventId: shop.event.id, email: 'quick@example.org', positions: [{ productId: shop.product.id }], provider: 'manual' });

    const res = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });
    // Refused; the buyer is sent back to the event page, told that the reservation ran out and the cart is empty.
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(base);
    expect((await buyer.follow(res)).body).toContain('Your reservation ran out and the tickets in your cart are no longer available');
    expect(await t.db.dataSource.manager.countBy(Order, { eventId: shop.event.id })).toBe(1);
    // The token was released: once the buyer changes the cart they can try again.
    expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM shop_submission WHERE order_id IS NULL')).toEqual([{ n: 0 }]);
  });
});
