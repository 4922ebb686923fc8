import { Buyer } from '../shop/buyer';
import { createOrganizerFixture, createTestApp, getPage, login, placeManualOrder, type OrganizerFixture, type TestApp } from './test-app';

/*
 * Pages with personal data (the order page, every checkout step, the control panel) and the API
 * must not be kept by the browser's cache or a shared proxy: Cache-Control: private, no-store.
 */
let t: TestApp;
let f: OrganizerFixture;

beforeAll(async () => {
  t = await createTestApp();
  f = await createOrganizerFixture(t);
});
afterAll(async () => t.close());

const privateNoStore = 'private, no-store';

it('sends private, no-store on every checkout step and on the order page', async () => {
  const buyer = new Buyer(t.app);
  const base = `/${f.organizer.slug}/${f.event.slug}/`;
  const seen: [string, unknown][] = [];
  const note = (what: string, res: { headers: Record<string, unknown>; statusCode: number }) => seen.push([what, res.headers['cache-control']]);

  note('event page', await buyer.get(base));
  const cartPost = await buyer.post(`${base}cart`, { [`qty_${f.product.id}`]: 1 });
  note('cart post', cartPost);
  note('contact step', await buyer.follow(cartPost));
  const contactPost = await buyer.post(`${base}checkout/contact`, { email: 'ada@example.org' });
  note('contact post', contactPost);
  note('payment step', await buyer.follow(contactPost));
  const paymentPost = await buyer.post(`${base}checkout/payment`, { provider: 'manual' });
  note('confirm step', await buyer.follow(paymentPost));
  const confirmPost = await buyer.post(`${base}checkout/confirm`, { token: buyer.field('token')! });
  note('confirm post', confirmPost);
  const orderPage = await buyer.follow(confirmPost);
  expect(orderPage.body).toContain('ada@example.org');
  note('order page', orderPage);

  expect(seen).toEqual(seen.map(([what]) => [what, privateNoStore]));
});

it('sends private, no-store on control panel pages, the login page, API answers and error pages', async () => {
  const b = await login(t, f.email, f.password);
  const { order } = await placeManualOrder(t, f, 'grace@example.org');
  const urls = ['/control', '/control/orders', `/control/orders/${order.id}`, '/control/events', `/control/events/${f.event.id}`, '/control/settings/payment', '/control/api-tokens'];
  for (const url of urls) {
    const res = await getPage(t, b, url);
    expect([url, res.statusCode, res.headers['cache-control']]).toEqual([url, 200, privateNoStore]);
  }
  expect((await t.app.inject({ method: 'GET', url: '/control/login' })).headers['cache-control']).toBe(privateNoStore);
  const api = await t.app.inject({ method: 'GET', url: `/api/v1/orders/${order.id}`, headers: { authorization: `Bearer ${f.token}` } });
  expect([api.statusCode, api.headers['cache-control']]).toEqual([200, privateNoStore]);
  const missing = await t.app.inject({ method: 'GET', url: '/control/orders/not-an-order', headers: { cookie: b.cookie } });
  expect(missing.headers['cache-control']).toBe(privateNoStore);
});

it('keeps static files cacheable (they are the same for everyone)', async () => {
  const css = await t.app.inject({ method: 'GET', url: '/static/kassa.css' });
  expect(css.headers['cache-control']).toBe('public, max-age=3600');
});
