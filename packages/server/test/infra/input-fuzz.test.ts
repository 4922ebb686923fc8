import { createApiToken } from '../../src/auth/api-token';
import { Buyer } from '../shop/buyer';
import {
  createOrganizerFixture, createTestApp, login, placeManualOrder, type Browser, type OrganizerFixture, type TestApp,
} from './test-app';

/*
 * Malformed input across every route of the site (the API, the control panel, the shop's forms),
 * authenticated and with valid CSRF tokens so the payloads reach validation and the handlers:
 * nothing answers 5xx, and a refused request (4xx) changes none of the tables that hold money,
 * orders, catalogue or settings. Seeded and bounded: the same requests on every run
 * (KASSA_FUZZ_SEED picks another sequence, KASSA_FUZZ_REQUESTS another length).
 */
const seed = Number(process.env.KASSA_FUZZ_SEED ?? 20261207);
const requestCount = Number(process.env.KASSA_FUZZ_REQUESTS ?? 2000);
const batchSize = 10;

/** mulberry32: small, fast, and good enough to spread requests over routes and values. */
function prng(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Route { method: string; path: string }

/**
 * Every route the app serves, read from fastify's own route tree (so a route added later is fuzzed
 * without editing this test). Each line is `<indent>├── <segment> (<methods>)`; a node's path is
 * its parent's plus its segment.
 */
function routesOf(tree: string): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[└├]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) if (method !== 'HEAD') routes.push({ method, path });
  }
  return routes;
}

// Text that breaks storage or arithmetic, and text that merely looks odd (which must work or be refused cleanly).
const nastyText = [
  '\u0000', 'a\u0000b', 'Infinity', '-Infinity', '1e400', '-1e400', 'NaN', '1e308', '9007199254740993', '99999999999999999999',
  '2147483648', '-1', '0', '', ' ', '1.5', '0x10', 'true', 'null', '[]', '{}', '%00', '\ud800', '💳', '<script>x</script>',
  "' OR 1=1 --", '../../etc/passwd', 'x'.repeat(5000), 'EUR', 'manual', '00000000-0000-0000-0000-000000000000',
];
// JSON values spelled as JSON text: 1e400 only exists as text (JSON.parse makes it Infinity).
const nastyJson = [
  '1e400', '-1e400', '1e308', '9007199254740993', '2147483648', '-1', '0', '1.5', '-0', 'true', 'false', 'null', '[]', '{}',
  '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"Infinity"', '"1e400"', '""', '[1e400]', '{"\\u0000":1}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  '"x"', '"manual"', '2500',
];
// Field names the app's forms and API bodies use, so payloads hit real schema properties.
const fieldNames = [
  'name', 'slug', 'email', 'password', 'next', 'amount', 'price', 'size', 'count', 'quantity', 'comment', 'force', 'manual', 'action',
  'paymentId', 'provider', 'token', 'currency', 'locale', 'paymentTermDays', 'productIds', 'live', 'active', 'status', 'q', 'page',
  'pageSize', 'publicName', 'pendingInstructions', '_enabled', 'feeAbs', 'feePercent', 'cancellationFee', 'autoRefund', 'message',
  'expires', 'testmode', 'eventId', 'overpaid', 'pendingRefund', 'externalRefund', 'source', 'state', 'code', '\u0000',
];

/** The money-relevant state, as one digest: orders, payments, refunds, quotas, catalogue, settings, tokens, events out. */
const stateTables = [
  'kassa_order', 'order_position', 'order_fee', 'order_payment', 'order_refund', 'quota', 'quota_product', 'quota_usage',
  'product', 'event', 'setting', 'api_token', 'outbox_event', 'organizer', 'app_user',
];
// api_token's last_used_at is bumped by authentication itself (at most once a minute), before any validation.
const rowText = (table: string) => (table === 'api_token' ? '(x.id, x.organizer_id, x.name, x.active)::text' : 'x::text');
const stateSql = `SELECT md5(${stateTables.map((t) => `coalesce((SELECT string_agg(${rowText(t)}, '|' ORDER BY ${rowText(t)}) FROM ${t} x), '')`).join(' || ')}) AS digest`;

let t: TestApp;
let f: OrganizerFixture;

beforeAll(async () => {
  // Generous limits: the point is to reach validation, not to be turned away at the door.
  const many = { max: 100_000, timeWindow: '1 minute' };
  t = await createTestApp({ rateLimits: { login: many, loginAccount: many, placeOrder: many, api: many, apiAddress: many } });
  f = await createOrganizerFixture(t);
});
afterAll(async () => t.close());

it(`answers ${requestCount} malformed requests without a 5xx, and refused ones change nothing`, async () => {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const routes = routesOf(t.app.printRoutes({ commonPrefix: false }))
    .filter((r) => !r.path.startsWith('/api/docs') && !r.path.startsWith('/static') && r.path !== '/favicon.ico');
  expect(routes.length).toBeGreaterThan(40);

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
  // A buyer with a cart, so the checkout steps have a session (and its CSRF secret) to check against.
  const buyer = new Buyer(t.app);
  await buyer.follow(await buyer.post(`/${f.organizer.slug}/${f.event.slug}/cart`, { [`qty_${f.product.id}`]: 1 }));
  const buyerCsrf = buyer.field('_csrf')!;
  expect(buyerCsrf).toMatch(/^[\w-]{20,}$/);

  /** One malformed request for a random route. */
  const next = () => {
    const route = pick(routes);
    const api = route.path.startsWith('/api/');
    const control = route.path.startsWith('/control');
    const url = route.path.replace(/:([A-Za-z]+)/g, (_m, name: string) =>
      encodePart(random() < 0.8 && valid[name]?.length ? pick(valid[name]) : pick(nastyText)));
    const query = new URLSearchParams();
    if (random() < 0.5) for (let k = 0; k < 1 + Math.floor(random() * 3); k++) query.append(pick(fieldNames), pick(nastyText));

    const headers: Record<string, string> = { accept: random() < 0.5 ? 'text/html' : 'application/json' };
    if (api) headers.authorization = `Bearer ${f.token}`;
    else headers.cookie = control ? admin.cookie : buyerCookie(buyer);
    const csrf = control ? admin.csrf : buyerCsrf;

    let payload: string | undefined;
    if (route.method !== 'GET') {
      const fields = Array.from({ length: Math.floor(random() * 4) }, () => pick(fieldNames));
      if (api || random() < 0.25) {
        // JSON, written as text so that 1e400 and "\u0000" arrive exactly as a hostile client sends them.
        const parts = fields.map((k) => `${JSON.stringify(k)}:${pick(nastyJson)}`);
        if (!api) parts.push(`"_csrf":${JSON.stringify(csrf)}`);
        payload = random() < 0.05 ? pick(nastyJson) : `{${parts.join(',')}}`;
        headers['content-type'] = 'application/json';
      } else {
        const form = new URLSearchParams();
        for (const k of fields) form.append(k, pick(nastyText));
        if (route.path.endsWith('/cart')) form.append(`qty_${f.product.id}`, pick(nastyText));
        if (random() < 0.95) form.set('_csrf', csrf);
        payload = form.toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      }
    }
    const fullUrl = query.size ? `${url}?${query}` : url;
    return { route, what: `${route.method} ${fullUrl.slice(0, 200)} ${JSON.stringify(payload?.slice(0, 300))}`,
      inject: { method: route.method as 'GET', url: fullUrl, headers, ...(payload !== undefined ? { payload } : {}) } };
  };

  const state = async () => ((await t.db.dataSource.query(stateSql)) as { digest: string }[])[0]!.digest;
  let before = await state();
  const serverErrors: string[] = [];
  const changedOnRefusal: string[] = [];
  const statuses = new Map<number, number>();
  let checkedBatches = 0;

  // In small concurrent batches (a real server sees concurrent requests, and it keeps the test
  // fast). A batch whose every form or API call (anything but GET) was refused must leave the state
  // as it was (a GET never changes it); a batch with an accepted post may change it.
  for (let done = 0; done < requestCount; done += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, requestCount - done) }, next);
    const answers = await Promise.all(batch.map((r) => t.app.inject(r.inject)));
    for (const [k, res] of answers.entries()) {
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) serverErrors.push(`${batch[k]!.what} → ${res.statusCode} ${res.body.slice(0, 300)}`);
    }
    const after = await state();
    if (answers.every((res, k) => batch[k]!.route.method === 'GET' || res.statusCode >= 400)) {
      checkedBatches++;
      if (after !== before) changedOnRefusal.push(batch.map((r, k) => `${r.what} → ${answers[k]!.statusCode}`).join('\n'));
    }
    before = after;
    // A fuzzed logout ends the admin's session: log in again, as the admin would.
    if (batch.some((r, k) => r.route.path === '/control/logout' && answers[k]!.statusCode === 303)) admin = await login(t, f.email, f.password);
  }

  expect(serverErrors.slice(0, 10)).toEqual([]);
  expect(changedOnRefusal.slice(0, 10)).toEqual([]);
  // The payloads reached validation: most requests are refused as bad input, not at the door.
  expect(statuses.get(400) ?? 0).toBeGreaterThan(requestCount / 4);
  expect(checkedBatches).toBeGreaterThan(requestCount / batchSize / 3);
}, 180_000); // usually 10–40 s; the margin is for a busy shared machine

/** Percent-encoding; a lone surrogate has no UTF-8 form, so it is sent as the invalid bytes a hostile client would send. */
function encodePart(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

function buyerCookie(buyer: Buyer): string {
  const session = buyer.cookie('kassa_session');
  return session ? `kassa_session=${session}` : '';
}
