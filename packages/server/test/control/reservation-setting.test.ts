import { Event } from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { createOrganizerFixture, createTestApp, getPage, login, postForm, type Browser, type OrganizerFixture, type TestApp } from '../infra/test-app';

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;

beforeAll(async () => {
  t = await createTestApp();
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
});
afterAll(async () => t.close());

const events = () => t.db.dataSource.getRepository(Event);

describe('the event\'s reservation time (control panel)', () => {
  it('defaults to 30 minutes, is shown and can be changed; a form without it keeps the value', async () => {
    const created = await postForm(t, browserA, '/control/events', { name: 'Rush', slug: 'rush', currency: 'EUR', paymentTermDays: '7' });
    expect(created.statusCode).toBe(303);
    const event = await events().findOneByOrFail({ slug: 'rush', organizerId: a.organizer.id });
    expect(event.reservationMinutes).toBe(30);
    expect((await getPage(t, browserA, `/control/events/${event.id}/edit`)).body).toMatch(/name="reservationMinutes"[^>]*value="30"|value="30"[^>]*name="reservationMinutes"/);
    const edit = await postForm(t, browserA, `/control/events/${event.id}`, { name: 'Rush', slug: 'rush', currency: 'EUR', paymentTermDays: '7', reservationMinutes: '12' });
    expect(edit.statusCode).toBe(303);
    expect((await events().findOneByOrFail({ id: event.id })).reservationMinutes).toBe(12);
    expect((await getPage(t, browserA, `/control/events/${event.id}`)).body).toContain('12 minutes');
    await postForm(t, browserA, `/control/events/${event.id}`, { name: 'Rush 2', slug: 'rush', currency: 'EUR', paymentTermDays: '7' });
    expect(await events().findOneByOrFail({ id: event.id })).toMatchObject({ name: 'Rush 2', reservationMinutes: 12 });
  });

  it('refuses out-of-range and non-numeric values with a 400 naming the field, writing nothing', async () => {
    const before = await snapshotRows(t.db.dataSource);
    const stored = await events().findOneByOrFail({ id: a.event.id });
    for (const value of ['0', '10081', 'soon', '-5']) {
      const res = await postForm(t, browserA, `/control/events/${a.event.id}`, {
        name: 'X', slug: a.event.slug, currency: 'EUR', paymentTermDays: '7', reservationMinutes: value,
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('Reservation time (minutes)');
    }
    expect(await events().findOneByOrFail({ id: a.event.id })).toMatchObject({ reservationMinutes: stored.reservationMinutes, name: stored.name });
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });

  it('another organizer cannot change it (404), nor without a CSRF token', async () => {
    const res = await postForm(t, browserA, `/control/events/${b.event.id}`, { name: 'X', slug: 'x', currency: 'EUR', paymentTermDays: '7', reservationMinutes: '5' });
    expect(res.statusCode).toBe(404);
    const forged = await postForm(t, browserA, `/control/events/${a.event.id}`, {
      name: 'X', slug: a.event.slug, currency: 'EUR', paymentTermDays: '7', reservationMinutes: '5',
    }, { csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect((await events().findOneByOrFail({ id: b.event.id })).reservationMinutes).toBe(30);
    expect((await events().findOneByOrFail({ id: a.event.id })).reservationMinutes).not.toBe(5);
  });
});
