import { routesOfTree, runInputFuzz, stateDigestSql, type FuzzIdentity } from '@kassa/testing';
import { createApiToken } from '../../src/auth/api-token';
import { Buyer } from '../shop/buyer';
import {
  createOrganizerFixture, createTestApp, login, placeManualOrder, type Browser, type OrganizerFixture, type TestApp,
} from './test-app';

/*
 * Malformed input across every route of the site (the API, the control panel, the shop's forms),
 * authenticated and with valid CSRF tokens so the payloads reach validation and the handlers:
 * nothing answers 5xx, and a refused request (4xx) changes none of the tables that hold money,
 * orders, catalogue or settings. Seeded and bounded: the same requests on every run, PER_ROUTE to
 * each route (KASSA_FUZZ_SEED picks another sequence, KASSA_FUZZ_REQUESTS another length).
 */
const seed = Number(process.env.KASSA_FUZZ_SEED ?? 20261207);
/** Requests per route: more than the fewest any route got when routes were picked at random for 2,000 requests. */
const PER_ROUTE = 8;
const batchSize = 10;

/** The money-relevant state, as one digest: orders, payments, refunds, quotas, catalogue, settings, tokens, events out. */
const stateTables = [
  'kassa_order', 'order_position', 'order_fee', 'order_payment', 'order_refund', 'quota', 'quota_product', 'quota_usage',
  'product', 'event', 'setting', 'api_token', 'outbox_event', 'organizer', 'app_user',
];
// api_token's last_used_at is bumped by authentication itself (at most once a minute), before any validation.
const rowText = (table: string) => (table === 'api_token' ? '(x.id, x.organizer_id, x.name, x.active)::text' : 'x::text');
const stateSql = stateDigestSql(stateTables, rowText);

let t: TestApp;
let f: OrganizerFixture;

beforeAll(async () => {
  // Generous limits: the point is to reach validation, not to be turned away at the door.
  const many = { max: 100_000, timeWindow: '1 minute' };
  t = await createTestApp({ rateLimits: { login: many, loginAccount: many, placeOrder: many, api: many, apiAddress: many } });
  f = await createOrganizerFixture(t);
});
afterAll(async () => t.close());

it('answers malformed requests to every route without a 5xx, and refused ones change nothing', async () => {
  const routes = routesOfTree(t.app.printRoutes({ commonPrefix: false }))
    .filter((r) => !r.path.startsWith('/api/docs') && !r.path.startsWith('/static') && r.path !== '/favicon.ico');
  expect(routes.length).toBeGreaterThan(40);
  const requestCount = Number(process.env.KASSA_FUZZ_REQUESTS ?? PER_ROUTE * routes.length);

  const { order, payment } = await placeManualOrder(t, f, 'fuzz@example.org');
  // A second, paid order with a refund, so the refund routes have something real to refuse changes to.
  const paid = await placeManualOrder(t, f, 'paid@example.org');
  const asApi = (url: string, payload: object) => t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${f.token}` }, payload });
  expect((await asApi(`/api/v1/orders/${paid.order.id}/payments/${paid.payment.id}/confirm`, {})).statusCode).toBe(200);
  const refunded = await asApi(`/api/v1/orders/${paid.order.id}/refunds`, { paymentId: paid.payment.id, amount: 100, manual: true });
  expect(refunded.statusCode).toBe(201);
  const { id: tokenId } = await createApiToken(t.db.dataSource, f.organizer.id, 'fuzz target');
  const quota = (await t.db.dataSource.query('SELECT id FROM quota WHERE event_id = $1 LIMIT 1', [f.event.id])) as { id: string }[];
  const valid: Record<string, string[]> = {
    eventId: [f.event.id], productId: [f.product.id], quotaId: quota.map((q) => q.id), provider: ['manual', 'free'],
    orderId: [order.id, paid.order.id], paymentId: [payment.id, paid.payment.id], refundId: [refunded.json().refund.id as string], tokenId: [tokenId],
    emailId: ['00000000-0000-4000-8000-000000000000'], queue: ['orders'], id: ['1'],
    organizer: [f.organizer.slug], event: [f.event.slug], code: [order.code], secret: [order.secret],
  };

  let admin: Browser = await login(t, f.email, f.password);
  // A buyer with a cart, so the checkout steps have a checkout cookie (and its CSRF secret) to check against.
  const buyer = new Buyer(t.app);
  await buyer.follow(await buyer.post(`/${f.organizer.slug}/${f.event.slug}/cart`, { [`qty_${f.product.id}`]: 1 }));
  const buyerCsrf = buyer.field('_csrf')!;
  expect(buyerCsrf).toMatch(/^[\w-]{20,}$/);

  const state = async () => ((await t.db.dataSource.query(stateSql)) as { digest: string }[])[0]!.digest;
  const { serverErrors, changedOnRefusal, statuses, checkedBatches, covered } = await runInputFuzz({
    seed, requests: requestCount, batchSize, routes, valid, state,
    inject: (req) => t.app.inject({ ...req, method: req.method as 'GET' }),
    identity: (route): FuzzIdentity => {
      if (route.path.startsWith('/api/')) return { headers: { authorization: `Bearer ${f.token}` }, csrf: null };
      if (route.path.startsWith('/control')) return { headers: { cookie: admin.cookie }, csrf: admin.csrf };
      const cookie = buyerCookie(buyer);
      return { headers: cookie ? { cookie } : {}, csrf: buyerCsrf };
    },
    extraForm: (route, form, nasty) => {
      if (route.path.endsWith('/cart')) form.append(`qty_${f.product.id}`, nasty());
    },
    // A fuzzed logout ends the admin's session: log in again, as the admin would.
    afterBatch: async (done) => {
      if (done.some((r) => r.route.path === '/control/logout' && r.statusCode === 303)) admin = await login(t, f.email, f.password);
    },
  });

  expect(serverErrors.slice(0, 10)).toEqual([]);
  expect(changedOnRefusal.slice(0, 10)).toEqual([]);
  // The payloads reached validation: most requests are refused as bad input, not at the door.
  expect(statuses.get(400) ?? 0).toBeGreaterThan(requestCount / 4);
  expect(checkedBatches).toBeGreaterThan(requestCount / batchSize / 3);
  // Every route was fuzzed (the requests go round the routes).
  expect(covered.size).toBe(routes.length);
}, 180_000); // usually 10–40 s; the margin is for a busy shared machine

/** The buyer's cookies: the sealed checkout cookie (the shop's state and CSRF secret) and a server session if one was made. */
function buyerCookie(buyer: Buyer): string {
  return ['kassa_checkout', 'kassa_session'].flatMap((name) => {
    const value = buyer.cookie(name);
    return value ? [`${name}=${value}`] : [];
  }).join('; ');
}
