import { Team, TeamStore, createUser as createLogin } from '@kassa/core/host';
import { createEvent, createProduct, createQuota, createShop } from '@kassa/testing';
import { hashPassword } from '../../src/auth/password';
import {
  cookieOf, createOrganizerFixture, createTestApp, createUser, csrfOf, getPage, login, placeManualOrder, postForm, type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let adminA: Browser;
let adminB: Browser;

beforeAll(async () => {
  t = await createTestApp();
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  adminA = await login(t, a.email, a.password);
  adminB = await login(t, b.email, b.password);
});
afterAll(async () => t.close());

const teamIdFrom = (location: string | string[] | number | undefined) => /\/control\/teams\/([0-9a-f-]{36})$/.exec(String(location))![1]!;
const inviteLinkOf = (html: string) => /(http:\/\/[^<\s]+\/control\/invite\/[A-Za-z0-9_-]{43})/.exec(html)![1]!.replace('http://127.0.0.1:3000', '');

async function newTeam(browser: Browser, fields: Record<string, string | string[]>): Promise<string> {
  const res = await postForm(t, browser, '/control/teams', fields);
  expect(res.statusCode).toBe(303);
  return teamIdFrom(res.headers.location);
}

/** Invites an address into a team as admin A and returns the single-use link path. */
async function invite(teamId: string, email: string): Promise<string> {
  expect((await postForm(t, adminA, `/control/teams/${teamId}/invites`, { email })).statusCode).toBe(303);
  return inviteLinkOf((await getPage(t, adminA, `/control/teams/${teamId}`)).body);
}

/** Accepts an invitation by creating a login; returns the new browser. */
async function register(link: string, password = 'a long enough password'): Promise<Browser> {
  const page = await t.app.inject({ method: 'GET', url: link });
  expect(page.statusCode).toBe(200);
  const cookie = cookieOf(page);
  const res = await t.app.inject({
    method: 'POST', url: `${link}/register`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrfOf(page.body), name: 'New Member', password }).toString(),
  });
  expect(res.statusCode).toBe(303);
  const next = cookieOf(res, cookie);
  // Their own teams' page: the dashboard is only for teams that view every event's orders.
  const page2 = await t.app.inject({ method: 'GET', url: '/control/account', headers: { cookie: next } });
  return { cookie: next, csrf: csrfOf(page2.body) };
}

describe('teams and permissions', () => {
  it('a view-only team sees orders but cannot change them, events, settings or teams (404)', async () => {
    const teamId = await newTeam(adminA, { name: 'Box office', all_events: 'on', can_view_orders: 'on' });
    const viewer = await register(await invite(teamId, 'viewer@example.test'));
    const { order, payment } = await placeManualOrder(t, a);
    expect((await getPage(t, viewer, '/control/orders')).statusCode).toBe(200);
    expect((await getPage(t, viewer, `/control/orders/${order.id}`)).statusCode).toBe(200);
    expect((await postForm(t, viewer, `/control/orders/${order.id}/payments/${payment.id}/confirm`)).statusCode).toBe(404);
    for (const url of [`/control/events/${a.event.id}`, '/control/events/new', '/control/settings/payment', '/control/teams', `/control/teams/${teamId}`, '/control/api-tokens']) {
      expect([url, (await getPage(t, viewer, url)).statusCode]).toEqual([url, 404]);
    }
    expect((await postForm(t, viewer, `/control/teams/${teamId}`, { name: 'Mine now', can_change_teams: 'on', all_events: 'on' })).statusCode).toBe(404);
    expect((await t.db.dataSource.getRepository(Team).findOneByOrFail({ id: teamId })).canChangeTeams).toBe(false);
  });

  it('a team limited to chosen events sees only their orders, and permissions are the union of teams', async () => {
    const event = await createEvent(t.db.dataSource, { organizerId: a.organizer.id, currency: 'EUR' });
    const product = await createProduct(t.db.dataSource, event.id, { price: 1000 });
    await createQuota(t.db.dataSource, event.id, [product], 10);
    const limited = await newTeam(adminA, { name: 'Second event', events: [event.id], can_view_orders: 'on', can_change_orders: 'on' });
    const member = await register(await invite(limited, 'limited@example.test'));
    const inFirst = await placeManualOrder(t, a);
    const inSecond = await t.core.orders.placeOrder({ eventId: event.id, email: 'x@example.test', positions: [{ productId: product.id }], provider: 'manual' });
    expect((await getPage(t, member, `/control/orders/${inFirst.order.id}`)).statusCode).toBe(404);
    const list = await getPage(t, member, '/control/orders');
    expect(list.body).not.toContain(inFirst.order.code);
    expect((await getPage(t, member, `/control/orders/${inSecond.order.id}`)).statusCode).toBe(200);
    expect(list.body).toContain(inSecond.order.code);
    // Organizer-wide pages (dashboard figures, every event's emails) are for teams on all events.
    expect((await getPage(t, member, '/control')).headers.location).toBe('/control/orders');
    expect((await getPage(t, member, '/control/emails')).statusCode).toBe(404);
    expect((await getPage(t, member, `/control/orders?eventId=${a.event.id}`)).statusCode).toBe(404);
    // A second team with all events for viewing: the union lets them see the first event's order, not change it.
    const viewers = await newTeam(adminA, { name: 'All viewers', all_events: 'on', can_view_orders: 'on' });
    const user = await t.db.dataSource.query("SELECT id FROM app_user WHERE email = 'limited@example.test'");
    expect(await new TeamStore(t.db.dataSource).addMember(a.organizer.id, viewers, user[0].id)).toBe(true);
    expect((await getPage(t, member, `/control/orders/${inFirst.order.id}`)).statusCode).toBe(200);
    expect((await postForm(t, member, `/control/orders/${inFirst.order.id}/payments/${inFirst.payment.id}/confirm`)).statusCode).toBe(404);
  });

  it('a team that may only change teams starts on its own teams page and sees no orders', async () => {
    const teamId = await newTeam(adminA, { name: 'HR', all_events: 'on', can_change_teams: 'on' });
    const hr = await register(await invite(teamId, 'hr@example.test'));
    expect((await getPage(t, hr, '/control')).headers.location).toBe('/control/account');
    expect((await getPage(t, hr, '/control/teams')).statusCode).toBe(200);
    expect((await getPage(t, hr, '/control/orders')).statusCode).toBe(404);
  });

  it('another organizer’s team, member or invitation is 404 for every team route', async () => {
    const teamId = await newTeam(adminA, { name: 'Secret', all_events: 'on', can_view_orders: 'on' });
    await invite(teamId, 'someone@example.test');
    const inviteId = (await t.db.dataSource.query('SELECT id FROM team_invite WHERE team_id = $1', [teamId]))[0].id;
    const userId = (await t.db.dataSource.query('SELECT id FROM app_user WHERE email = $1', [a.email]))[0].id;
    expect((await getPage(t, adminB, `/control/teams/${teamId}`)).statusCode).toBe(404);
    for (const [url, fields] of [
      [`/control/teams/${teamId}`, { name: 'Taken', all_events: 'on' }], [`/control/teams/${teamId}/delete`, {}], [`/control/teams/${teamId}/invites`, { email: 'evil@example.test' }],
      [`/control/teams/${teamId}/invites/${inviteId}/revoke`, {}], [`/control/teams/${teamId}/members/${userId}/remove`, {}], [`/control/teams/${teamId}/leave`, {}],
    ] as const) {
      expect([url, (await postForm(t, adminB, url, fields)).statusCode]).toEqual([url, 404]);
    }
    expect((await t.db.dataSource.getRepository(Team).findOneByOrFail({ id: teamId })).name).toBe('Secret');
    // Switching into an organizer one is not in is as absent as anything else of it.
    expect((await postForm(t, adminB, '/control/organizer', { organizerId: a.organizer.id })).statusCode).toBe(404);
    expect(await t.db.dataSource.query('SELECT 1 FROM team_invite WHERE id = $1', [inviteId])).toHaveLength(1);
  });

  it('refuses every team form without the CSRF token', async () => {
    const teamId = await newTeam(adminA, { name: 'CSRF', all_events: 'on' });
    for (const url of ['/control/teams', `/control/teams/${teamId}`, `/control/teams/${teamId}/invites`, `/control/teams/${teamId}/delete`, `/control/teams/${teamId}/leave`]) {
      expect([url, (await postForm(t, adminA, url, { name: 'x', email: 'x@example.test' }, { csrf: 'forged' })).statusCode]).toEqual([url, 403]);
    }
    expect(await t.db.dataSource.query("SELECT 1 FROM team_invite WHERE email = 'x@example.test'")).toHaveLength(0);
  });

  it('answers bad input with 400 naming the field', async () => {
    const res = await postForm(t, adminA, '/control/teams', { name: '', can_view_orders: 'maybe' });
    expect(res.statusCode).toBe(400);
    const teamId = await newTeam(adminA, { name: 'Bad input', all_events: 'on' });
    const inv = await postForm(t, adminA, `/control/teams/${teamId}/invites`, { email: 'not an address' });
    expect(inv.statusCode).toBe(400);
    expect(inv.body).toContain('must be an e-mail address');
  });
});

describe('invitations', () => {
  it('work once, store only the token hash, and send an e-mail with the link', async () => {
    const teamId = await newTeam(adminA, { name: 'Once', all_events: 'on', can_view_orders: 'on' });
    const link = await invite(teamId, 'once@example.test');
    const token = link.split('/').pop()!;
    const rows = await t.db.dataSource.query('SELECT token_hash FROM team_invite WHERE team_id = $1', [teamId]);
    expect(rows[0].token_hash).not.toContain(token);
    const mail = await t.db.dataSource.query("SELECT body_text FROM email_message WHERE recipient = 'once@example.test'");
    expect(mail[0].body_text).toContain(link);
    await register(link);
    expect((await t.app.inject({ method: 'GET', url: link })).statusCode).toBe(404);
    // The replayed registration form creates nothing.
    const again = await t.app.inject({ method: 'POST', url: `${link}/register`, payload: 'password=another+long+password' , headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([403, 404]).toContain(again.statusCode);
    expect(await t.db.dataSource.query("SELECT 1 FROM app_user WHERE lower(email) = 'once@example.test'")).toHaveLength(1);
  });

  it('expire', async () => {
    const teamId = await newTeam(adminA, { name: 'Expiring', all_events: 'on' });
    const link = await invite(teamId, 'late@example.test');
    const now = t.clock.now();
    t.clock.advance({ days: 8 });
    try {
      expect((await t.app.inject({ method: 'GET', url: link })).statusCode).toBe(404);
    } finally {
      t.clock.set(now);
    }
  });

  it('are accepted by a signed-in existing user, who then works in the new organizer', async () => {
    // Admin B is invited into A's team and accepts while logged in to B.
    const teamId = await newTeam(adminA, { name: 'Guests', all_events: 'on', can_view_orders: 'on' });
    const link = await invite(teamId, b.email);
    const page = await getPage(t, adminB, link);
    expect(page.body).toContain('Accept as');
    const res = await postForm(t, adminB, `${link}/accept`, {}, { csrf: csrfOf(page.body) });
    expect(res.statusCode).toBe(303);
    const cookie = cookieOf(res, adminB.cookie);
    const orders = await t.app.inject({ method: 'GET', url: '/control/orders', headers: { cookie } });
    expect(orders.statusCode).toBe(200);
    expect(orders.body).toContain(a.organizer.name);
  });
});

describe('the last admin', () => {
  it('can neither leave, be removed, lose the permission nor lose the team', async () => {
    const shop = await createShop(t.db.dataSource, { price: 100 });
    const only = await createUser(t, shop.organizer, { email: 'only-admin@example.test' });
    const browser = await login(t, only.email, only.password);
    const team = (await new TeamStore(t.db.dataSource).listTeams(shop.organizer.id))[0]!;
    expect((await postForm(t, browser, `/control/teams/${team.id}/leave`)).statusCode).toBe(409);
    expect((await postForm(t, browser, `/control/teams/${team.id}/members/${only.user.id}/remove`)).statusCode).toBe(409);
    expect((await postForm(t, browser, `/control/teams/${team.id}/delete`)).statusCode).toBe(409);
    expect((await postForm(t, browser, `/control/teams/${team.id}`, { name: 'Admins', all_events: 'on', can_view_orders: 'on' })).statusCode).toBe(409);
    expect(await new TeamStore(t.db.dataSource).adminCount(shop.organizer.id)).toBe(1);
    // With a second admin, the first may leave.
    const second = await createLogin(t.db.dataSource, { email: 'second-admin@example.test', passwordHash: await hashPassword('x', { logN: 10 }) });
    await new TeamStore(t.db.dataSource).addMember(shop.organizer.id, team.id, second.id);
    expect((await postForm(t, browser, `/control/teams/${team.id}/leave`)).statusCode).toBe(303);
  });
});
