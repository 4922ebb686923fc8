import crypto from 'node:crypto';
import { createProduct, createQuota, createShop } from '@kassa/testing';
import { SealedCookie } from '../../src/infra/sealed-cookie';
import { Buyer } from './buyer';
import { buyerCookie, createShopTestApp, enableManual, type ShopTestApp } from './shop-test-app';

/*
 * The buyer's checkout lives in the sealed cookie `kassa_checkout` (AES-256-GCM), not in a server
 * session: the buyer can neither read nor change it, its CSRF secret binds the shop's forms to it,
 * and a checkout too large for a cookie is refused before anything is held.
 */
let t: ShopTestApp;

beforeAll(async () => {
  t = await createShopTestApp();
});
afterAll(async () => {
  await t.close();
});

async function toContact() {
  const shop = await createShop(t.db.dataSource);
  await enableManual(t, shop.event);
  const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
  const buyer = new Buyer(t.app);
  await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 2 }));
  return { shop, base, buyer };
}

describe("the buyer's sealed checkout cookie", () => {
  it('carries the checkout unreadable to the buyer; a changed value opens as no checkout at all', async () => {
    const { base, buyer } = await toContact();
    await buyer.post(`${base}checkout/contact`, { email: 'secret-buyer@example.org' });
    const raw = buyer.cookie('kassa_checkout')!;
    expect(buyerCookie(buyer)?.shop).toBeDefined();
    expect(Buffer.from(raw, 'base64url').toString('latin1')).not.toContain('secret-buyer');
    // One character changed: the tag no longer matches, so the shop sees an empty cart.
    const flipped = raw.slice(0, 40) + (raw[40] === 'A' ? 'B' : 'A') + raw.slice(41);
    const res = await t.app.inject({ method: 'GET', url: `${base}checkout/payment`, headers: { cookie: `kassa_checkout=${flipped}`, accept: 'text/html' } });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(base);
    // The untouched cookie still works.
    expect((await buyer.get(`${base}checkout/payment`)).statusCode).toBe(200);
    expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM http_session')).toEqual([{ n: 0 }]);
  });

  it('is written with its CSRF secret when the cart is filled: a form page that only shows the checkout writes nothing', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    const buyer = new Buyer(t.app);
    const cart = await buyer.post(`${base}cart`, { [`qty_${shop.product.id}`]: 1 });
    expect(cart.headers['set-cookie']).toEqual(expect.stringMatching(/^kassa_checkout=[\w-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/));
    expect(buyerCookie(buyer)).toMatchObject({ id: expect.any(String), csrf: expect.any(String) });
    const contact = await buyer.get(`${base}checkout/contact`);
    expect(contact.statusCode).toBe(200);
    expect(contact.headers['set-cookie']).toBeUndefined();
    // The page's token is made from the secret the cart's cookie carries.
    expect((await buyer.post(`${base}checkout/contact`, { email: 'once@example.org' })).statusCode).toBe(303);
  });

  it('is serialised once per write: the JSON its size check made is the JSON sealed', async () => {
    const { base, buyer } = await toContact();
    const email = 'counted-once@example.org';
    const stringify = JSON.stringify;
    let serialised = 0;
    JSON.stringify = function counting(this: unknown, ...args: Parameters<typeof JSON.stringify>) {
      const out = stringify.apply(this, args);
      if (typeof out === 'string' && out.includes(email)) serialised += 1;
      return out;
    } as typeof JSON.stringify;
    let res;
    try {
      res = await buyer.post(`${base}checkout/contact`, { email });
    } finally {
      JSON.stringify = stringify;
    }
    expect(res.statusCode).toBe(303);
    expect(res.headers['set-cookie']).toBeDefined();
    expect(serialised).toBe(1);
    // And what was sealed is the whole checkout.
    expect(buyerCookie(buyer)).toMatchObject({ id: expect.any(String), csrf: expect.any(String) });
    expect(Object.values(buyerCookie(buyer)!.shop!)[0]).toMatchObject({ email, lines: [expect.objectContaining({ quantity: 2 })] });
  });

  it('draws one browser id and one CSRF secret for a first cart, the ones its cookie then carries', async () => {
    const shop = await createShop(t.db.dataSource);
    await enableManual(t, shop.event);
    const buyer = new Buyer(t.app);
    const ids = jest.spyOn(crypto, 'randomUUID');
    const bytes = jest.spyOn(crypto, 'randomBytes');
    let res;
    try {
      res = await buyer.post(`/${shop.organizer.slug}/${shop.event.slug}/cart`, { [`qty_${shop.product.id}`]: 1 });
      expect(res.statusCode).toBe(303);
      // The cart's size is checked before its tickets are held and again when it is written: both
      // measure the cookie with the id and secret its first write gives, drawn once. The other
      // UUID is the new cart's.
      const drawnIds = ids.mock.results.map((r) => r.value as string);
      expect(drawnIds).toHaveLength(2);
      expect(bytes).toHaveBeenCalledTimes(1);
      const cookie = buyerCookie(buyer)!;
      expect(drawnIds).toContain(cookie.id);
      expect(drawnIds).toContain(Object.values(cookie.shop!)[0]!.cartId);
      expect((bytes.mock.results[0]!.value as Buffer).toString('base64url')).toBe(cookie.csrf);
    } finally {
      ids.mockRestore();
      bytes.mockRestore();
    }
  });

  it("refuses a checkout form posted with another buyer's CSRF token, or none", async () => {
    const a = await toContact();
    const b = await toContact();
    const tokenOfA = a.buyer.field('_csrf')!;
    const forged = await b.buyer.post(`${b.base}checkout/contact`, { email: 'b@example.org', _csrf: tokenOfA });
    expect(forged.statusCode).toBe(403);
    const none = await t.app.inject({
      method: 'POST', url: `${b.base}checkout/contact`, payload: 'email=b%40example.org',
      headers: { cookie: `kassa_checkout=${b.buyer.cookie('kassa_checkout')}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    });
    expect(none.statusCode).toBe(403);
    expect(none.json().error.code).toBe('CSRF_INVALID');
    expect((await b.buyer.post(`${b.base}checkout/contact`, { email: 'b@example.org' })).statusCode).toBe(303);
  });

  it('refuses a cart too large for a cookie, naming the cart, before any ticket is held', async () => {
    const shop = await createShop(t.db.dataSource);
    const products = [shop.product];
    for (let i = 0; i < 79; i++) products.push(await createProduct(t.db.dataSource, shop.event.id, { name: `Workshop ${i}`, position: i + 1 }));
    await createQuota(t.db.dataSource, shop.event.id, products.slice(1), 100, 'Workshops');
    const base = `/${shop.organizer.slug}/${shop.event.slug}/`;
    const buyer = new Buyer(t.app);
    const res = await buyer.post(`${base}cart`, Object.fromEntries(products.map((p) => [`qty_${p.id}`, 1])), { json: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED', params: { field: 'cart' } });
    expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM cart_reservation WHERE event_id = $1', [shop.event.id])).toEqual([{ n: 0 }]);
    // Twenty products fit.
    const fits = await buyer.post(`${base}cart`, Object.fromEntries(products.slice(0, 20).map((p) => [`qty_${p.id}`, 1])));
    expect(fits.statusCode).toBe(303);
  });

  it('opens only within its lifetime, and only under its own name and key', () => {
    const sealed = new SealedCookie<{ a: number }>('kassa_checkout', 'k'.repeat(40), 60_000);
    const now = new Date('2026-12-07T10:00:00Z');
    const value = sealed.seal({ a: 1 }, now);
    expect(sealed.open(value, new Date(now.getTime() + 59_000))).toEqual({ a: 1 });
    expect(sealed.open(value, new Date(now.getTime() + 61_000))).toBeNull();
    expect(new SealedCookie('other_cookie', 'k'.repeat(40), 60_000).open(value, now)).toBeNull();
    expect(new SealedCookie('kassa_checkout', 'x'.repeat(40), 60_000).open(value, now)).toBeNull();
    expect(sealed.open('not-a-sealed-value', now)).toBeNull();
  });

  it('remembers the newest values it sealed when more buyers are between two steps than it keeps: those open without decrypting', () => {
    const now = new Date('2026-12-07T10:00:00Z');
    const sealed = new SealedCookie<{ n: number }>('kassa_checkout', 'k'.repeat(40), 60_000);
    // Two generations of 4,096: at least the newest 4,096 are always kept; these 8,300 fill both.
    const count = 8300;
    const values = Array.from({ length: count }, (_, n) => sealed.seal({ n }, now));
    const decrypts = jest.spyOn(crypto, 'createDecipheriv');
    try {
      for (let n = count - 4096; n < count; n++) expect(sealed.open(values[n], now)).toEqual({ n });
      expect(decrypts).not.toHaveBeenCalled();
      // The oldest were let go: they still open, by decrypting.
      expect(sealed.open(values[0], now)).toEqual({ n: 0 });
      expect(decrypts).toHaveBeenCalledTimes(1);
    } finally {
      decrypts.mockRestore();
    }
  });

  it('opens what another process sealed with the same secret, hands out a fresh object per open, and still refuses a changed value', () => {
    const now = new Date('2026-12-07T10:00:00Z');
    const sealer = new SealedCookie<{ lines: number[] }>('kassa_checkout', 'k'.repeat(40), 60_000);
    const opener = new SealedCookie<{ lines: number[] }>('kassa_checkout', 'k'.repeat(40), 60_000);
    const value = sealer.seal({ lines: [1] }, now);
    // Another server process (nothing remembered there): decrypted, then remembered with its own expiry.
    expect(opener.open(value, now)).toEqual({ lines: [1] });
    expect(opener.open(value, new Date(now.getTime() + 61_000))).toBeNull();
    // What one request changes in its copy is not what the next request opens.
    const first = sealer.open(value, now)!;
    first.lines.push(2);
    expect(sealer.open(value, now)).toEqual({ lines: [1] });
    // A value one character away from a remembered one is not remembered: it must decrypt, and fails.
    const changed = value.slice(0, 40) + (value[40] === 'A' ? 'B' : 'A') + value.slice(41);
    expect(sealer.open(changed, now)).toBeNull();
    expect(opener.open(changed, now)).toBeNull();
  });
});
