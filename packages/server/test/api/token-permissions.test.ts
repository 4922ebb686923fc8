import { randomBytes } from 'node:crypto';
import { TeamStore, WebhookService, definePlugin, loadPlugins } from '@kassa/core/host';
import { createEvent, createProduct, createQuota } from '@kassa/testing';
import { hashApiToken } from '../../src/auth/api-token';
import {
  createOrganizerFixture, createTestApp, createUser, getPage, login, placeManualOrder, postForm, type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

/** A plugin's API routes: one that reads, one that changes orders, one without a declaration (organizer settings). */
const echo = async (req: { organizerId?: string }) => ({ status: 200, body: { organizerId: req.organizerId } });
const probe = definePlugin({
  name: 'tokenprobe', version: '0.0.0', coreRange: '*',
  routes: [
    { method: 'GET', path: '/api/read', kind: 'api', handler: echo as never, permission: 'event.orders.view' },
    { method: 'POST', path: '/api/payments/:paymentId/change', kind: 'api', handler: echo as never, permission: 'event.orders.change' },
    { method: 'GET', path: '/api/settings', kind: 'api', handler: echo as never },
  ],
});

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let adminA: Browser;
let adminB: Browser;
/** A second event of organizer A, with a product. */
let second: { eventId: string; productId: string };

beforeAll(async () => {
  t = await createTestApp({}, (db) => ({
    webhooks: { service: new WebhookService({ dataSource: db.dataSource, secretKey: randomBytes(32) }) },
    pluginRoutes: loadPlugins([probe]).routes,
  }));
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  adminA = await login(t, a.email, a.password);
  adminB = await login(t, b.email, b.password);
  const event = await createEvent(t.db.dataSource, { organizerId: a.organizer.id, name: 'Second event' });
  const product = await createProduct(t.db.dataSource, event.id);
  await createQuota(t.db.dataSource, event.id, [product], 100);
  second = { eventId: event.id, productId: product.id };
});
afterAll(async () => t.close());

function api(token: string, method: 'GET' | 'POST', url: string, payload?: unknown) {
  return t.app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: payload === undefined ? undefined : JSON.stringify(payload),
  });
}

/** Creates a token through the control panel's form and returns its plaintext (shown once). */
async function tokenFromForm(browser: Browser, fields: Record<string, string | string[]>): Promise<string> {
  const res = await postForm(t, browser, '/control/api-tokens', fields);
  expect([res.statusCode, res.body.slice(0, 0)]).toEqual([200, '']);
  return /id="new-token">(kassa_[\w-]+)</.exec(res.body)![1]!;
}

const placeIn = (eventId: string, productId: string) =>
  t.core.orders.placeOrder({ eventId, email: 'scope@example.test', positions: [{ productId }], provider: 'manual' });

describe('API tokens with permissions', () => {
  it('a read-only token reads orders but every change, webhook and settings route answers 404', async () => {
    const token = await tokenFromForm(adminA, { name: 'Read only', can_view_orders: 'on', all_events: 'on' });
    const { order, payment } = await placeManualOrder(t, a);
    expect((await api(token, 'GET', '/api/v1/orders')).statusCode).toBe(200);
    expect((await api(token, 'GET', `/api/v1/orders/${order.id}`)).statusCode).toBe(200);
    expect((await api(token, 'GET', `/api/v1/orders/${order.id}/log`)).statusCode).toBe(200);
    const refused = [
      await api(token, 'POST', `/api/v1/orders/${order.id}/mark_expired`, {}),
      await api(token, 'POST', `/api/v1/orders/${order.id}/payments/${payment.id}/cancel`, {}),
      await api(token, 'POST', `/api/v1/orders/${order.id}/mark_canceled`, {}),
      await api(token, 'GET', '/api/v1/webhooks'),
      await api(token, 'POST', '/api/v1/webhooks', { url: 'https://example.org/hook', eventTypes: ['order.paid'] }),
      await api(token, 'POST', '/api/v1/shredder', { orderId: order.id, confirm: true }),
    ];
    for (const res of refused) expect([res.statusCode, res.json().error.code]).toEqual([404, 'NOT_FOUND']);
    // Nothing changed.
    expect((await api(token, 'GET', `/api/v1/orders/${order.id}`)).json().status).toBe('pending');
  });

  it('a token that may change orders changes them; one with only organizer settings manages webhooks and sees no order', async () => {
    const changer = await tokenFromForm(adminA, { name: 'Box office', can_view_orders: 'on', can_change_orders: 'on', all_events: 'on' });
    const { order } = await placeManualOrder(t, a);
    const res = await api(changer, 'POST', `/api/v1/orders/${order.id}/mark_expired`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('expired');
    expect((await api(changer, 'GET', '/api/v1/webhooks')).statusCode).toBe(404);

    const settings = await tokenFromForm(adminA, { name: 'Integrations', can_change_organizer_settings: 'on', all_events: 'on' });
    expect((await api(settings, 'GET', '/api/v1/webhooks')).statusCode).toBe(200);
    expect((await api(settings, 'GET', '/api/v1/orders')).statusCode).toBe(404);
    expect((await api(settings, 'GET', `/api/v1/orders/${order.id}`)).statusCode).toBe(404);
  });

  it('a token on chosen events sees only them: lists are filtered, other events and their orders are 404, organizer-wide routes too', async () => {
    const token = await tokenFromForm(adminA, { name: 'Second event only', can_view_orders: 'on', can_change_orders: 'on', events: [second.eventId] });
    const mine = await placeIn(second.eventId, second.productId);
    const other = await placeManualOrder(t, a);
    const list = (await api(token, 'GET', '/api/v1/orders?pageSize=200')).json();
    expect(list.results.map((o: { id: string }) => o.id)).toContain(mine.order.id);
    expect(list.results.every((o: { eventId: string }) => o.eventId === second.eventId)).toBe(true);
    expect((await api(token, 'GET', `/api/v1/orders/${mine.order.id}`)).statusCode).toBe(200);
    expect((await api(token, 'GET', `/api/v1/orders/${other.order.id}`)).statusCode).toBe(404);
    expect((await api(token, 'POST', `/api/v1/orders/${other.order.id}/mark_expired`, {})).statusCode).toBe(404);
    expect((await api(token, 'GET', `/api/v1/orders?eventId=${a.event.id}`)).statusCode).toBe(404);
    // Events and their catalogue ('member' routes): only the chosen event exists for this token.
    const events = (await api(token, 'GET', '/api/v1/events')).json();
    expect(events.results.map((e: { id: string }) => e.id)).toEqual([second.eventId]);
    expect((await api(token, 'GET', `/api/v1/events/${second.eventId}/products`)).statusCode).toBe(200);
    expect((await api(token, 'GET', `/api/v1/events/${a.event.id}/products`)).statusCode).toBe(404);
    expect((await api(token, 'GET', `/api/v1/events/${a.event.id}`)).statusCode).toBe(404);
    // Organizer-wide figures and exports of every event need the permission on all events.
    expect((await api(token, 'GET', '/api/v1/dashboard')).statusCode).toBe(404);
    expect((await api(token, 'POST', '/api/v1/exports', { dataset: 'orders', format: 'csv' })).statusCode).toBe(404);
    // Another organizer's order stays 404 like a missing one.
    const theirs = await placeManualOrder(t, b);
    expect((await api(token, 'GET', `/api/v1/orders/${theirs.order.id}`)).statusCode).toBe(404);
  });

  it('the form refuses a token with more than its creator holds, or with nothing, naming the field', async () => {
    const limited = await createUser(t, a.organizer, { isAdmin: false });
    // Settings on the organizer, orders only on the second event.
    const teams = new TeamStore(t.db.dataSource);
    const teamId = await teams.createTeam(a.organizer.id, { name: 'Second-event admins', allEvents: false, permissions: ['organizer.settings', 'event.orders.view'], eventIds: [second.eventId] });
    await teams.addMember(a.organizer.id, teamId, limited.user.id);
    await t.db.dataSource.query('DELETE FROM team_member WHERE user_id = $1 AND team_id <> $2', [limited.user.id, teamId]);
    const browser = await login(t, limited.email, limited.password);
    const before = (await t.db.dataSource.query('SELECT count(*)::int AS n FROM api_token WHERE organizer_id = $1', [a.organizer.id]))[0].n;

    const allEvents = await postForm(t, browser, '/control/api-tokens', { name: 'Too wide', can_view_orders: 'on', all_events: 'on' });
    expect(allEvents.statusCode).toBe(400);
    expect(allEvents.body).toContain('You hold this permission only on some events');
    const teamsRight = await postForm(t, browser, '/control/api-tokens', { name: 'Too wide', can_change_teams: 'on', events: [second.eventId] });
    expect(teamsRight.statusCode).toBe(400);
    expect(teamsRight.body).toContain('You do not hold this permission yourself');
    const changing = await postForm(t, browser, '/control/api-tokens', { name: 'Too wide', can_change_orders: 'on', events: [second.eventId] });
    expect(changing.statusCode).toBe(400);
    const nothing = await postForm(t, browser, '/control/api-tokens', { name: 'Nothing', all_events: 'on' });
    expect(nothing.statusCode).toBe(400);
    expect(nothing.body).toContain('Choose at least one permission');
    const malformed = await postForm(t, browser, '/control/api-tokens', { name: 'Bad', can_view_orders: 'yes' });
    expect(malformed.statusCode).toBe(400);
    expect((await t.db.dataSource.query('SELECT count(*)::int AS n FROM api_token WHERE organizer_id = $1', [a.organizer.id]))[0].n).toBe(before);

    const token = await tokenFromForm(browser, { name: 'Within reach', can_view_orders: 'on', events: [second.eventId] });
    expect((await api(token, 'GET', '/api/v1/orders')).statusCode).toBe(200);
    const page = await getPage(t, adminA, '/control/api-tokens');
    expect(page.body).toContain('Within reach');
    expect(page.body).toContain('Second event');
  });

  it("stores only the organizer's own events, needs CSRF, and another organizer cannot revoke the token", async () => {
    const res = await postForm(t, adminA, '/control/api-tokens', { name: 'Foreign event', can_view_orders: 'on', events: [b.event.id] });
    expect(res.statusCode).toBe(200);
    const token = /id="new-token">(kassa_[\w-]+)</.exec(res.body)![1]!;
    const [row] = await t.db.dataSource.query('SELECT id, permissions, all_events FROM api_token WHERE token_hash = $1', [hashApiToken(token)]);
    expect(row).toMatchObject({ permissions: ['event.orders.view'], all_events: false });
    expect(await t.db.dataSource.query('SELECT * FROM api_token_event WHERE token_id = $1', [row.id])).toEqual([]);
    // No event at all: the token sees no order and no event.
    expect((await api(token, 'GET', '/api/v1/orders')).statusCode).toBe(404);
    expect((await api(token, 'GET', `/api/v1/orders/${(await placeManualOrder(t, b)).order.id}`)).statusCode).toBe(404);

    const forged = await postForm(t, adminA, '/control/api-tokens', { name: 'Forged', can_view_orders: 'on', all_events: 'on' }, { csrf: null });
    expect(forged.statusCode).toBe(403);
    expect((await t.db.dataSource.query("SELECT count(*)::int AS n FROM api_token WHERE name = 'Forged'"))[0].n).toBe(0);
    expect((await postForm(t, adminB, `/control/api-tokens/${row.id}/revoke`)).statusCode).toBe(404);
  });

  it('tokens made before permissions existed (and createApiToken without a scope) keep every permission on all events', async () => {
    const { order } = await placeIn(second.eventId, second.productId);
    expect((await api(a.token, 'GET', `/api/v1/orders/${order.id}`)).statusCode).toBe(200);
    expect((await api(a.token, 'GET', '/api/v1/webhooks')).statusCode).toBe(200);
    expect((await api(a.token, 'GET', '/api/v1/dashboard')).statusCode).toBe(200);
  });

  it("enforces a plugin's API route permissions for tokens, the event of a path's payment included", async () => {
    const reader = await tokenFromForm(adminA, { name: 'Plugin reader', can_view_orders: 'on', all_events: 'on' });
    const changer = await tokenFromForm(adminA, { name: 'Plugin changer', can_view_orders: 'on', can_change_orders: 'on', events: [second.eventId] });
    const call = (token: string, method: 'GET' | 'POST', url: string) => api(token, method, url, method === 'POST' ? {} : undefined);
    const inSecond = await placeIn(second.eventId, second.productId);
    const inFirst = await placeManualOrder(t, a);
    expect((await call(reader, 'GET', '/plugins/tokenprobe/api/read')).json()).toEqual({ organizerId: a.organizer.id });
    expect((await call(reader, 'POST', `/plugins/tokenprobe/api/payments/${inSecond.payment!.id}/change`)).statusCode).toBe(404);
    expect((await call(reader, 'GET', '/plugins/tokenprobe/api/settings')).statusCode).toBe(404);
    expect((await call(changer, 'POST', `/plugins/tokenprobe/api/payments/${inSecond.payment!.id}/change`)).statusCode).toBe(200);
    expect((await call(changer, 'POST', `/plugins/tokenprobe/api/payments/${inFirst.payment.id}/change`)).statusCode).toBe(404);
    expect((await call(a.token, 'GET', '/plugins/tokenprobe/api/settings')).statusCode).toBe(200);
  });
});
