import { snapshotRows, createShop, createProduct, createQuota } from '@kassa/testing';
import { MAX_ENTERED_AMOUNT, type Product } from '@kassa/core/host';
import { Buyer } from './buyer';
import { createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp();
});
afterAll(async () => {
  await t.close();
});

const heldRows = async () => (await t.db.dataSource.query('SELECT count(*)::int AS n FROM cart_reservation'))[0].n as number;

/*
 * A cart whose total is beyond what Kassa stores exactly (every price within the 13-digit entry
 * cap, but enough of them): the buyer gets the event page back with the quantities they chose and
 * a message naming the problem, 400, and nothing is held or written.
 */
describe('a cart beyond what one order can hold', () => {
  it('is refused on the event page with a clear message beside the quantity, 400, nothing held or written', async () => {
    // 46 products at the highest price an organizer can enter, 20 of each: about 9.2 × 10^15 minor units in all.
    const shop = await createShop(t.db.dataSource, { price: MAX_ENTERED_AMOUNT, quotaSize: null });
    await enableManual(t, shop.event);
    const products: Product[] = [shop.product];
    for (let i = 1; i < 46; i++) products.push(await createProduct(t.db.dataSource, shop.event.id, { name: `Gold ${i}`, price: MAX_ENTERED_AMOUNT, position: i }));
    await createQuota(t.db.dataSource, shop.event.id, products.slice(1), null, 'Gold');
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    const buyer = new Buyer(t.app);
    await buyer.get(base);
    const before = { rows: await snapshotRows(t.db.dataSource), held: await heldRows() };

    const res = await buyer.post(`${base}cart`, Object.fromEntries(products.map((p) => [`qty_${p.id}`, 20])));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const message = /data-code="SHOP_CART_TOO_LARGE">([^<]+)</.exec(res.body)?.[1];
    // The line that took the total past the limit: the 46th product, with its quantity.
    expect(message).toBe('Your cart is more than one order can hold: with 20 × Gold 45 its total would be too large to take. Please choose fewer tickets, or split them over several orders');
    expect(res.body).not.toMatch(/safe integer|minor units|MONEY_/);
    // The cart form again, with what the buyer chose and the offending quantity marked.
    expect(res.body).toContain('data-testid="event-form"');
    expect(res.body).toMatch(new RegExp(`name="qty_${products[45]!.id}"[^>]*value="20" aria-invalid="true" aria-describedby="form-error"`));
    expect(res.body).toMatch(new RegExp(`name="qty_${products[0]!.id}"[^>]*value="20">`));
    expect({ rows: await snapshotRows(t.db.dataSource), held: await heldRows() }).toEqual(before);
    // Nothing of it went into the session either: the checkout still has no cart.
    expect((await buyer.get(`${base}checkout/contact`)).statusCode).toBe(303);

    // A JSON client gets the catalogued error naming the field.
    const json = await buyer.post(`${base}cart`, Object.fromEntries(products.map((p) => [`qty_${p.id}`, 20])), { json: true });
    expect(json.statusCode).toBe(400);
    expect(json.json().error).toMatchObject({ code: 'SHOP_CART_TOO_LARGE', params: { field: `qty_${products[45]!.id}`, quantity: 20 } });

    // Fewer tickets: the same products go into the cart.
    const fewer = await buyer.post(`${base}cart`, Object.fromEntries(products.slice(0, 3).map((p) => [`qty_${p.id}`, 20])));
    expect(fewer.statusCode).toBe(303);
  });
});

describe('a cart that only the payment fee takes past the limit', () => {
  it('sends the buyer back to the cart with a clear message, placing nothing', async () => {
    // A price stored exactly before the entry cap existed: the cart alone is fine, with the fee it is not.
    const shop = await createShop(t.db.dataSource, { price: Number.MAX_SAFE_INTEGER - 100, quotaSize: null });
    await enableManual(t, shop.event, { _feeAbs: 500 });
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    const buyer = new Buyer(t.app);
    await buyer.get(base);
    await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 }));
    const csrf = buyer.field('_csrf')!;
    const before = await snapshotRows(t.db.dataSource);
    const toPayment = await buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' });
    expect(toPayment.headers.location).toBe(`${base}checkout/payment`);
    // The payment step finds no method that can take the total with its fee: back to the cart, saying why.
    const payment = await buyer.get(`${base}checkout/payment`);
    expect([payment.statusCode, payment.headers.location]).toEqual([303, base]);
    const cart = await buyer.follow(payment);
    expect(cart.statusCode).toBe(200);
    expect(cart.body).toContain('With the payment fee, your order&#39;s total would be more than one order can hold. Please choose fewer tickets');
    expect(cart.body).not.toMatch(/safe integer|minor units|contact the organizer/);
    expect(cart.body).toMatch(new RegExp(`name="qty_${shop.product.id}"[^>]*value="1"`));
    // Choosing the method anyway (a form from before) places nothing either.
    const chosen = await buyer.post(`${base}checkout/payment`, { provider: 'manual', _csrf: csrf });
    expect([chosen.statusCode, chosen.headers.location]).toEqual([303, base]);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });
});

describe('a cart that a price rise takes past the limit', () => {
  it('sends the buyer back to the cart from the checkout, saying which quantity', async () => {
    const shop = await createShop(t.db.dataSource, { price: 4_000_000_000_000_000, quotaSize: null }); // stored before the entry cap
    await enableManual(t, shop.event);
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    const buyer = new Buyer(t.app);
    await buyer.get(base);
    expect((await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 2 })).statusCode).toBe(303);
    await t.db.dataSource.query('UPDATE product SET price = $2 WHERE id = $1', [shop.product.id, 5_000_000_000_000_000]);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the shop's one-second catalog cache (wall-clock)
    const contact = await buyer.get(`${base}checkout/contact`);
    expect([contact.statusCode, contact.headers.location]).toEqual([303, base]);
    const cart = await buyer.follow(contact);
    expect(cart.body).toContain('Your cart is more than one order can hold: with 2 × Ticket its total would be too large to take');
  });
});
