import { TeamStore, definePlugin, loadPlugins, type PluginHttpRequest } from '@kassa/core/host';
import { createEvent, createProduct, createQuota } from '@kassa/testing';
import { createOrganizerFixture, createTestApp, createUser, getPage, login, placeManualOrder, type Browser, type OrganizerFixture, type TestApp } from '../infra/test-app';

/*
 * A plugin's control route declares its team permission (PluginRoute.permission); without one it
 * needs the organizer settings permission. The host checks it before the handler, and an
 * event-level one on the event of the path's payment (or on all events when the path names none).
 */
const reached: string[] = [];
const operatorFlags: unknown[] = [];
const handler = async (req: PluginHttpRequest) => {
  reached.push(String(req.params.paymentId ?? 'none'));
  operatorFlags.push(req.isOperator);
  return { status: 200, body: { ok: true } };
};
const probe = definePlugin({
  name: 'permprobe', version: '0.0.0', coreRange: '*',
  routes: [
    { method: 'GET', path: '/control/default', kind: 'control', handler: handler as never },
    { method: 'GET', path: '/control/payments/:paymentId', kind: 'control', handler: handler as never, permission: 'event.orders.view' },
    { method: 'GET', path: '/control/everything', kind: 'control', handler: handler as never, permission: 'event.orders.view' },
    { method: 'GET', path: '/control/anyone', kind: 'control', handler: handler as never, permission: 'member' },
    { method: 'GET', path: '/control/operator', kind: 'control', handler: handler as never, permission: 'operator' },
  ],
});

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let admin: Browser;
let limited: Browser;
let operator: Browser;
let otherAdmin: Browser;
let limitedEventPayment: string;
let firstEventPayment: string;

beforeAll(async () => {
  t = await createTestApp({}, { pluginRoutes: loadPlugins([probe]).routes });
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  admin = await login(t, a.email, a.password);
  otherAdmin = await login(t, b.email, b.password);
  const event = await createEvent(t.db.dataSource, { organizerId: a.organizer.id });
  const product = await createProduct(t.db.dataSource, event.id, { price: 500 });
  await createQuota(t.db.dataSource, event.id, [product], 10);
  const teams = new TeamStore(t.db.dataSource);
  const teamId = await teams.createTeam(a.organizer.id, { name: 'One event', allEvents: false, permissions: ['event.orders.view'], eventIds: [event.id] });
  const { user, email, password } = await createUser(t, b.organizer, { isAdmin: false });
  await teams.addMember(a.organizer.id, teamId, user.id);
  limited = await login(t, email, password);
  // The limited user's session is in B (their first team there); switch to A.
  const switched = await t.app.inject({ method: 'POST', url: '/control/organizer', headers: { cookie: limited.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `organizerId=${a.organizer.id}&_csrf=${encodeURIComponent(limited.csrf)}` });
  expect(switched.statusCode).toBe(303);
  limitedEventPayment = (await t.core.orders.placeOrder({ eventId: event.id, email: 'x@example.test', positions: [{ productId: product.id }], provider: 'manual' })).payment!.id;
  firstEventPayment = (await placeManualOrder(t, a)).payment.id;
  // An instance operator is a user of some organizer (here B, not an admin there), flagged in app_user.
  const op = await createUser(t, b.organizer, { isAdmin: false });
  await t.db.dataSource.query('UPDATE app_user SET is_operator = true WHERE id = $1', [op.user.id]);
  operator = await login(t, op.email, op.password);
});
afterAll(async () => t.close());

const status = async (browser: Browser, path: string) => (await getPage(t, browser, `/plugins/permprobe${path}`)).statusCode;

describe('plugin control route permissions', () => {
  it('default to the organizer settings permission', async () => {
    expect(await status(admin, '/control/default')).toBe(200);
    expect(await status(limited, '/control/default')).toBe(404);
  });

  it('check an event-level permission on the event of the path’s payment, 404 across organizers', async () => {
    reached.length = 0;
    expect(await status(limited, `/control/payments/${limitedEventPayment}`)).toBe(200);
    expect(await status(limited, `/control/payments/${firstEventPayment}`)).toBe(404);
    expect(await status(otherAdmin, `/control/payments/${firstEventPayment}`)).toBe(404);
    expect(reached).toEqual([limitedEventPayment]);
  });

  it('need the permission on all events when the path names no event', async () => {
    expect(await status(admin, '/control/everything')).toBe(200);
    expect(await status(limited, '/control/everything')).toBe(404);
    expect(await status(limited, '/control/anyone')).toBe(200);
  });

  it('\'operator\' lets in the instance\'s operators alone, and tells the handler', async () => {
    operatorFlags.length = 0;
    expect(await status(admin, '/control/operator')).toBe(404);
    expect(await status(otherAdmin, '/control/operator')).toBe(404);
    expect(await status(operator, '/control/operator')).toBe(200);
    expect(await status(admin, '/control/default')).toBe(200);
    expect(operatorFlags).toEqual([true, false]);
  });

  it('are refused on other kinds of route by the loader', () => {
    expect(() => loadPlugins([definePlugin({
      name: 'badperm', version: '0.0.0', coreRange: '*', routes: [{ method: 'GET', path: '/x', kind: 'shop', handler: handler as never, permission: 'member' }],
    })])).toThrow(/permission may only be set on a control route, .* or on an api route/);
  });
});
