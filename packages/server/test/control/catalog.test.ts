import { Event, Product, Quota } from '@kassa/core/host';
import { createQuota, snapshotRows } from '@kassa/testing';
import { createOrganizerFixture, createTestApp, getPage, login, postForm, type Browser, type OrganizerFixture, type TestApp } from '../infra/test-app';

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
let browserB: Browser;

beforeAll(async () => {
  t = await createTestApp();
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
  browserB = await login(t, b.email, b.password);
});
afterAll(async () => t.close());

const events = () => t.db.dataSource.getRepository(Event);

describe('events, products and quotas', () => {
  it('creates an event, a product with a decimal price and a quota over it', async () => {
    const created = await postForm(t, browserA, '/control/events', { name: 'Jazz Night', slug: 'jazz-night', currency: 'JPY', paymentTermDays: '7', live: 'on' });
    expect(created.statusCode).toBe(303);
    const event = await events().findOneByOrFail({ slug: 'jazz-night', organizerId: a.organizer.id });
    expect(event).toMatchObject({ name: 'Jazz Night', currency: 'JPY', paymentTermDays: 7, live: true });
    expect(created.headers.location).toBe(`/control/events/${event.id}`);

    expect((await postForm(t, browserA, `/control/events/${event.id}/products`, { name: 'Seat', price: '3500', position: '1', active: 'on' })).statusCode).toBe(303);
    const product = await t.db.dataSource.getRepository(Product).findOneByOrFail({ eventId: event.id });
    expect(product.price).toBe(3500); // JPY has no minor unit

    expect((await postForm(t, browserA, `/control/events/${event.id}/quotas`, { name: 'Hall', size: '80', productIds: [product.id] })).statusCode).toBe(303);
    const quota = await t.db.dataSource.getRepository(Quota).findOneOrFail({ where: { eventId: event.id }, relations: { products: true } });
    expect(quota.size).toBe(80);
    expect(quota.products!.map((p) => p.id)).toEqual([product.id]);

    const page = await getPage(t, browserA, `/control/events/${event.id}`);
    expect(page.body).toContain('Seat');
    expect(page.body).toContain('Hall');
  });

  it('edits an event, a product (EUR cents from "12.5") and a quota (empty size = unlimited)', async () => {
    const edit = await postForm(t, browserA, `/control/events/${a.event.id}`, { name: 'Renamed', slug: a.event.slug, currency: 'EUR', paymentTermDays: '3' });
    expect(edit.statusCode).toBe(303);
    expect(await events().findOneByOrFail({ id: a.event.id })).toMatchObject({ name: 'Renamed', live: false, paymentTermDays: 3 });
    const form = await getPage(t, browserA, `/control/events/${a.event.id}/products/${a.product.id}/edit`);
    expect(form.body).toContain('value="25.00"');
    await postForm(t, browserA, `/control/events/${a.event.id}/products/${a.product.id}`, { name: 'Early bird', price: '12.5', active: 'on' });
    expect((await t.db.dataSource.getRepository(Product).findOneByOrFail({ id: a.product.id })).price).toBe(1250);
    const quota = await t.db.dataSource.getRepository(Quota).findOneByOrFail({ eventId: a.event.id });
    await postForm(t, browserA, `/control/events/${a.event.id}/quotas/${quota.id}`, { name: 'All', size: '', productIds: [a.product.id] });
    expect((await t.db.dataSource.getRepository(Quota).findOneByOrFail({ id: quota.id })).size).toBeNull();
  });

  it('shows field errors beside the field with 400 and writes nothing', async () => {
    const before = await snapshotRows(t.db.dataSource);
    const count = await events().count();
    const badSlug = await postForm(t, browserA, '/control/events', { name: 'X', slug: 'Not A Slug', currency: 'EUR', paymentTermDays: '7' });
    expect(badSlug.statusCode).toBe(400);
    expect(badSlug.body).toMatch(/class="field has-error"[\s\S]*Short name \(URL\): must match pattern/);
    const missing = await postForm(t, browserA, '/control/events', { slug: 'x', currency: 'EUR', paymentTermDays: '7' });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('Name: is required');
    const currency = await postForm(t, browserA, '/control/events', { name: 'X', slug: 'x-1', currency: 'XYZ', paymentTermDays: '7' });
    expect(currency.statusCode).toBe(400);
    expect(currency.body).toContain('Unknown currency code XYZ');
    const taken = await postForm(t, browserA, '/control/events', { name: 'X', slug: a.event.slug, currency: 'EUR', paymentTermDays: '7' });
    expect(taken.statusCode).toBe(400);
    expect(taken.body).toContain('is already used');
    const price = await postForm(t, browserA, `/control/events/${a.event.id}/products`, { name: 'P', price: '12.345.6' });
    expect(price.statusCode).toBe(400);
    expect(price.body).toContain('Cannot read');
    const foreignProduct = await postForm(t, browserA, `/control/events/${a.event.id}/quotas`, { name: 'Q', productIds: [b.product.id] });
    expect(foreignProduct.statusCode).toBe(400);
    expect(foreignProduct.body).toContain('not part of this event');
    expect(await events().count()).toBe(count);
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  describe('isolation and CSRF', () => {
    let quotaId: string;
    beforeAll(async () => {
      quotaId = (await createQuota(t.db.dataSource, a.event.id, [a.product], 10, 'Iso')).id;
    });

    const pages = () => [
      `/control/events/${a.event.id}`, `/control/events/${a.event.id}/edit`, `/control/events/${a.event.id}/products/new`,
      `/control/events/${a.event.id}/products/${a.product.id}/edit`, `/control/events/${a.event.id}/quotas/new`,
      `/control/events/${a.event.id}/quotas/${quotaId}/edit`, `/control/events/${a.event.id}/settings/payment`,
      `/control/events/${a.event.id}/settings/payment/manual`,
    ];
    const forms = (): [string, Record<string, string | string[]>][] => [
      [`/control/events/${a.event.id}`, { name: 'Hijacked', slug: 'hijacked', currency: 'EUR', paymentTermDays: '1' }],
      [`/control/events/${a.event.id}/products`, { name: 'P', price: '1' }],
      [`/control/events/${a.event.id}/products/${a.product.id}`, { name: 'P', price: '1' }],
      [`/control/events/${a.event.id}/quotas`, { name: 'Q' }],
      [`/control/events/${a.event.id}/quotas/${quotaId}`, { name: 'Q' }],
      [`/control/events/${a.event.id}/settings/payment/manual`, { publicName: 'Hijacked' }],
    ];

    it("answers 404 to another organizer's user on every event page and form, writing nothing", async () => {
      const before = await snapshotRows(t.db.dataSource);
      for (const url of pages()) {
        const res = await getPage(t, browserB, url);
        expect([url, res.statusCode]).toEqual([url, 404]);
        expect(res.body).not.toContain(a.event.slug);
      }
      for (const [url, fields] of forms()) expect([url, (await postForm(t, browserB, url, fields)).statusCode]).toEqual([url, 404]);
      expect(await snapshotRows(t.db.dataSource)).toEqual(before);
      expect((await events().findOneByOrFail({ id: a.event.id })).name).not.toBe('Hijacked');
    });

    it("does not list another organizer's events", async () => {
      const res = await getPage(t, browserB, '/control/events');
      expect(res.body).not.toContain(`/control/events/${a.event.id}`);
    });

    it('refuses every form without a valid CSRF token', async () => {
      for (const [url, fields] of [...forms(), ['/control/events', { name: 'N', slug: 'n-1', currency: 'EUR', paymentTermDays: '1' }] as [string, Record<string, string>]]) {
        expect([url, (await postForm(t, browserA, url, fields, { csrf: null })).statusCode]).toEqual([url, 403]);
        expect([url, (await postForm(t, browserA, url, fields, { csrf: 'x' })).statusCode]).toEqual([url, 403]);
      }
      expect(await events().countBy({ slug: 'n-1' })).toBe(0);
    });
  });
});

describe('team roles', () => {
  it('lets a non-admin member work with events and orders, while settings, tokens and jobs do not exist for them', async () => {
    const { createUser } = await import('../infra/test-app');
    const member = await createUser(t, a.organizer, { isAdmin: false });
    const m = await login(t, member.email, member.password);
    expect((await getPage(t, m, `/control/events/${a.event.id}`)).statusCode).toBe(200);
    expect((await getPage(t, m, '/control/orders')).statusCode).toBe(200);
    const dash = await getPage(t, m, '/control');
    expect(dash.body).not.toContain('href="/control/settings/payment"');
    for (const url of ['/control/settings/payment', '/control/settings/payment/manual', `/control/events/${a.event.id}/settings/payment`, '/control/api-tokens', '/control/jobs']) {
      expect([url, (await getPage(t, m, url)).statusCode]).toEqual([url, 404]);
    }
    expect((await postForm(t, m, '/control/api-tokens', { name: 'sneaky' })).statusCode).toBe(404);
    expect((await postForm(t, m, '/control/settings/payment/manual', { publicName: 'Changed' })).statusCode).toBe(404);
    expect(await t.db.dataSource.query("SELECT 1 FROM api_token WHERE name = 'sneaky'")).toHaveLength(0);
  });
});
