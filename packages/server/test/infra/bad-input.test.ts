import { findUnstorableInput, isKassaError, organizerSettings } from '@kassa/core/host';
import { Buyer } from '../shop/buyer';
import {
  createOrganizerFixture, createTestApp, login, placeManualOrder, postForm, type Browser, type OrganizerFixture, type TestApp,
} from './test-app';

/*
 * The two kinds of input that used to answer 500: a NUL character (PostgreSQL refuses it in text)
 * and a number that is not finite or beyond 2^53 (JSON's 1e400, or "Infinity" coerced by ajv).
 * Each is refused with 400 VALIDATION_FAILED naming the field, whatever route it is sent to, and
 * nothing is written. (input-fuzz.test.ts sends thousands of such requests; these pin the cases.)
 */
let t: TestApp;
let f: OrganizerFixture;
let admin: Browser;

beforeAll(async () => {
  t = await createTestApp();
  f = await createOrganizerFixture(t);
  admin = await login(t, f.email, f.password);
});
afterAll(async () => t.close());

const api = (method: 'GET' | 'POST', url: string, payload?: string) => t.app.inject({
  method, url, headers: { authorization: `Bearer ${f.token}`, ...(payload ? { 'content-type': 'application/json' } : {}) }, ...(payload ? { payload } : {}),
});
const count = async (table: string) => Number((await t.db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

describe('the API', () => {
  it.each([
    ['q=a%00b', 'q', 'contains a NUL character'],
    ['page=Infinity', 'page', 'must be a finite number'],
    ['page=1e400', 'page', 'must be a finite number'],
    ['page=1e300', 'page', 'is out of range'],
    ['%00=1', 'querystring', 'NUL'],
  ])('refuses the query %s naming %s', async (query, field, problem) => {
    const res = await api('GET', `/api/v1/orders?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED', params: { field, in: 'querystring' } });
    expect(res.json().error.params.detail).toContain(problem);
  });

  it('refuses 1e400 and a NUL in a JSON body, naming the field, and books no refund', async () => {
    const { order, payment } = await placeManualOrder(t, f);
    const url = `/api/v1/orders/${order.id}/refunds`;
    const huge = await api('POST', url, `{"paymentId":"${payment.id}","amount":1e400}`);
    expect([huge.statusCode, huge.json().error.code, huge.json().error.params.field]).toEqual([400, 'VALIDATION_FAILED', 'amount']);
    const nul = await api('POST', url, `{"paymentId":"${payment.id}","amount":100,"comment":"x\\u0000y"}`);
    expect([nul.statusCode, nul.json().error.params.field]).toEqual([400, 'comment']);
    const nested = await api('POST', url, `{"paymentId":"${payment.id}","amount":100,"extra":[{"\\u0000":1}]}`);
    expect(nested.statusCode).toBe(400);
    expect(await count('order_refund')).toBe(0);
  });

  it('refuses a NUL in a path parameter', async () => {
    const res = await api('GET', '/api/v1/orders/abc%00def');
    expect([res.statusCode, res.json().error.params]).toEqual([400, expect.objectContaining({ field: 'orderId', in: 'params' })]);
  });
});

describe('a path the router cannot read', () => {
  // Answered by the router before any route (fastify's frameworkErrors): still Kassa's 400 naming
  // the path, with the site's headers, so not even this answer is kept by a cache.
  it.each([
    ['percent-encoding that is not UTF-8 (a lone surrogate)', '/api/v1/orders/%ED%A0%80', 'is not valid percent-encoded UTF-8'],
    ['a path parameter longer than the router takes', `/control/orders/${'x'.repeat(500)}`, 'has a segment that is too long'],
  ])('%s: 400 VALIDATION_FAILED naming the url, not private', async (_what, url, problem) => {
    const res = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${f.token}`, cookie: admin.cookie, accept: 'application/json' } });
    expect([res.statusCode, res.json().error.code, res.json().error.params.field]).toEqual([400, 'VALIDATION_FAILED', 'url']);
    expect(res.json().error.params.detail).toContain(problem);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('the control panel', () => {
  it('refuses a NUL in a form field naming it, and creates nothing', async () => {
    const events = await count('event');
    const res = await postForm(t, admin, '/control/events', { name: 'Gala\u0000', slug: 'gala', currency: 'EUR', paymentTermDays: '3' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('name contains a NUL character');
    expect(await count('event')).toBe(events);
  });

  it('refuses Infinity in an integer form field that the form would otherwise coerce', async () => {
    const res = await postForm(t, admin, `/control/events/${f.event.id}/products`, { name: 'Seat', price: '10.00', position: 'Infinity' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('position must be a finite number');
  });

  it('answers 400, not 500, for a malformed id in the path of a form route that re-renders its own errors', async () => {
    const res = await postForm(t, admin, '/control/events/not-a-uuid/quotas', { name: 'Q' });
    expect(res.statusCode).toBe(400);
  });

  it('refuses a NUL in a payment setting, keeping the stored value', async () => {
    const before = await t.deps.settings.resolve(organizerSettings(f.organizer.id), 'payment.manual', { fresh: true });
    const res = await postForm(t, admin, '/control/settings/payment/manual', { _enabled: 'on', publicName: 'Cash\u0000', pendingInstructions: 'x' });
    expect(res.statusCode).toBe(400);
    expect(await t.deps.settings.resolve(organizerSettings(f.organizer.id), 'payment.manual', { fresh: true })).toEqual(before);
  });
});

describe('the settings store', () => {
  it('refuses a NUL or a non-finite number from any caller (a plugin, a job) with SETTINGS_INVALID naming the field', async () => {
    const attempt = (patch: Record<string, unknown>) => t.deps.settings.set(organizerSettings(f.organizer.id), 'payment.manual', patch).then(() => null, (e: unknown) => e);
    const nul = await attempt({ publicName: 'Cash\u0000' });
    expect(isKassaError(nul, 'SETTINGS_INVALID') && nul.message).toContain('publicName contains a NUL character');
    const inf = await attempt({ publicName: 'Cash', _enabled: true, pendingInstructions: 'x', feeAbs: Infinity });
    expect(isKassaError(inf, 'SETTINGS_INVALID')).toBe(true);
  });

  it('names where in a nested value the problem is', () => {
    expect(findUnstorableInput({ a: [{ b: 'ok' }, { c: 'x\u0000' }] })).toEqual({ path: 'a.1.c', problem: 'contains a NUL character' });
    expect(findUnstorableInput({ n: 2 ** 53 + 2 })).toEqual({ path: 'n', problem: 'is out of range' });
    expect(findUnstorableInput(JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)))?.problem).toBe('is nested too deeply');
    expect(findUnstorableInput({ fine: ['text', 12, -3.5, null, true] })).toBeNull();
  });
});

describe('the shop', () => {
  it('refuses a NUL in a checkout form and in the event address', async () => {
    const buyer = new Buyer(t.app);
    const base = `/${f.organizer.slug}/${f.event.slug}/`;
    await buyer.follow(await buyer.post(`${base}cart`, { [`qty_${f.product.id}`]: 1 }));
    const contact = await buyer.post(`${base}checkout/contact`, { email: 'ada\u0000@example.org' });
    expect(contact.statusCode).toBe(400);
    expect(contact.body).toContain('email contains a NUL character');
    const page = await t.app.inject({ method: 'GET', url: `/${f.organizer.slug}%00/${f.event.slug}/`, headers: { accept: 'application/json' } });
    expect([page.statusCode, page.json().error.params.field]).toEqual([400, 'organizer']);
  });
});
