import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { organizerSettings, parseConfig } from '@kassa/core/host';
import { silentLogger } from '@kassa/jobs';
import { createApiToken } from '@kassa/server';
import { createTestDatabase, routesOfTree, runInputFuzz, stateDigestSql, type FuzzIdentity, type FuzzRoute, type TestDatabase } from '@kassa/testing';
import type { LightMyRequestResponse } from 'fastify';
import { startKassa, type RunningKassa } from '../../src/start-kassa';

/*
 * Malformed input across every route of the distribution, the bundled plugins' included (Stripe
 * with Connect, wallet domains, saved cards and its pay pages; bank transfer with imports and
 * refunds), next to the server's own routes added since the first fuzz test (teams, the operators'
 * admin area, exports, the shredder, organizer webhooks, payment plans). The server's fuzz test
 * (packages/server/test/infra/input-fuzz.test.ts) has no plugins; this one runs the whole stack as
 * `pnpm start` composes it, logged in as an organizer admin who is also an instance operator, with
 * valid CSRF tokens and mostly real ids, so the payloads reach validation and the handlers.
 * Nothing answers 5xx; a batch of refused requests changes none of the tables that hold money,
 * orders, catalogue, settings, teams, webhooks or plans; and every answer but the static files'
 * tells caches not to keep it (Cache-Control: no-store), whatever page it is.
 */
const seed = Number(process.env.KASSA_FUZZ_SEED ?? 20261208);
/** Requests per route: more than the fewest any route got when routes were picked at random for 2,500 requests. */
const PER_ROUTE = 6;

/** What refused requests must leave alone: core's money and catalogue, settings, access, and the plugins' money tables. */
const stateTables = [
  'kassa_order', 'order_position', 'order_fee', 'order_payment', 'order_refund', 'quota', 'quota_product', 'quota_usage',
  'product', 'event', 'setting', 'api_token', 'organizer', 'app_user', 'team', 'team_member', 'team_invite', 'team_event',
  'webhook_endpoint', 'payment_plan', 'payment_plan_settings', 'plan_instalment', 'stored_payment_method',
  'stripe_connected_account', 'stripe_wallet_domain', 'stripe_webhook_endpoint', 'banktransfer_transaction', 'banktransfer_csv_mapping',
];
// api_token's last_used_at is bumped by authentication itself; an invitation's last view is not state either.
const rowText = (table: string) => (table === 'api_token' ? '(x.id, x.organizer_id, x.name, x.active)::text' : 'x::text');

/** Routes whose answers are the same for everyone and may be cached: static files, vendored scripts, the wallet association file. */
const cacheable = (r: FuzzRoute) => r.path.startsWith('/static') || r.path.startsWith('/vendor') || r.path === '/favicon.ico' || r.path.startsWith('/.well-known/');

let db: TestDatabase;
let kassa: RunningKassa;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-fuzz-'));

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
  const config = parseConfig({
    DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_JOBS_SCHEMA: `${db.schema}_jobs`, HOST: '127.0.0.1', PORT: 0,
    KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
  });
  kassa = await startKassa(config, { inProcessJobs: false, embeddedDefaults: true, passwordLogN: 10, jobsLogger: silentLogger });
}, 120_000);

afterAll(async () => {
  await kassa?.close();
  await kassa?.jobs.destroyBackend();
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Session { cookie: string; csrf: string }

function cookieOf(res: LightMyRequestResponse, previous = ''): string {
  const jar = new Map(previous.split('; ').filter(Boolean).map((c) => [c.split('=')[0]!, c] as const));
  for (const c of res.cookies) jar.set(c.name, `${c.name}=${c.value}`);
  return [...jar.values()].join('; ');
}
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

/** A fresh client address per call: the per-address limits (login, orders, API) must not turn the fuzz away at the door. */
let addresses = 0;
const nextAddress = () => `10.${(addresses >> 16) & 255}.${(addresses >> 8) & 255}.${addresses++ & 255}`;

async function login(email: string, password: string): Promise<Session> {
  const inject = kassa.app.inject.bind(kassa.app);
  const page = await inject({ method: 'GET', url: '/control/login', remoteAddress: nextAddress() });
  let cookie = cookieOf(page);
  const res = await inject({
    method: 'POST', url: '/control/login', remoteAddress: nextAddress(), headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email, password, _csrf: csrfOf(page.body)! }).toString(),
  });
  if (res.statusCode !== 303) throw new Error(`login failed: ${res.statusCode} ${res.body.slice(0, 300)}`);
  cookie = cookieOf(res, cookie);
  const dash = await inject({ method: 'GET', url: '/control', headers: { cookie } });
  return { cookie, csrf: csrfOf(dash.body)! };
}

it('answers malformed requests to every route of the distribution without a 5xx; refused ones change nothing; nothing personal is cacheable', async () => {
  const app = kassa.app;
  const q = <T>(sql: string, params: unknown[] = []) => db.dataSource.query(sql, params) as Promise<T[]>;
  const routes = routesOfTree(app.printRoutes({ commonPrefix: false }))
    // A fuzzed logout would end the admin's session and the re-logins would use up the account's
    // login limit (10 in 15 minutes); the server's fuzz test covers logout.
    .filter((r) => !r.path.startsWith('/api/docs') && !(r.method === 'POST' && r.path === '/control/logout'));
  const requestCount = Number(process.env.KASSA_FUZZ_REQUESTS ?? PER_ROUTE * routes.length);
  const paths = routes.map((r) => r.path);
  // The routes added since the first fuzz test are among them.
  for (const p of [
    '/control/teams/:teamId', '/control/admin/organizers/:organizerId', '/control/exports', '/control/shredder', '/control/webhooks/:webhookId',
    '/api/v1/webhooks/:webhookId', '/control/orders/:orderId/plan/instalments/:instalmentId/extend', '/plugins/stripe/control/connect/onboard',
    '/plugins/stripe/control/connect/custom/requirements', '/plugins/stripe/control/wallet-domains', '/plugins/banktransfer/control/imports',
    '/plugins/banktransfer/control/refunds', '/plugins/stripe/card/:paymentId/:token', '/plugins/stripe/webhook/:account',
  ]) expect(paths).toContain(p);

  const [org] = await q<{ id: string }>(`SELECT id FROM organizer WHERE slug = 'demo'`);
  const [event] = await q<{ id: string; slug: string }>('SELECT id, slug FROM event WHERE organizer_id = $1', [org!.id]);
  const products = await q<{ id: string }>('SELECT id FROM product WHERE event_id = $1 ORDER BY price DESC', [event!.id]);
  const quotas = await q<{ id: string }>('SELECT id FROM quota WHERE event_id = $1', [event!.id]);
  await q('UPDATE app_user SET is_operator = true WHERE email = $1', [kassa.login!.email]);
  await kassa.kassa.settings.set(organizerSettings(org!.id), 'payment.banktransfer', {
    _enabled: true, accountHolder: 'Demo Events', iban: 'DE89370400440532013000',
  });
  const { token } = await createApiToken(db.dataSource, org!.id, 'fuzz');
  // The API allows 300 requests a minute per token: the fuzz takes turns with several.
  const tokens = [token];
  for (let i = 0; i < 7; i++) tokens.push((await createApiToken(db.dataSource, org!.id, `fuzz ${i}`)).token);
  let turn = 0;
  const { id: tokenId } = await createApiToken(db.dataSource, org!.id, 'fuzz target');
  const asApi = (method: 'POST' | 'GET', url: string, payload?: object) =>
    app.inject({ method, url, remoteAddress: nextAddress(), headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  // Orders by each provider: a manual one paid and partly refunded, a Stripe one (its pay and card
  // pages have tokens), a bank transfer one.
  const place = (provider: string, email: string) =>
    kassa.kassa.core.orders.placeOrder({ eventId: event!.id, email, positions: [{ productId: products[0]!.id }], provider });
  const manual = await place('manual', 'fuzz@example.org');
  const paid = await place('manual', 'paid@example.org');
  expect((await asApi('POST', `/api/v1/orders/${paid.order.id}/payments/${paid.payment!.id}/confirm`, {})).statusCode).toBe(200);
  const refunded = await asApi('POST', `/api/v1/orders/${paid.order.id}/refunds`, { paymentId: paid.payment!.id, amount: 100, manual: true });
  expect(refunded.statusCode).toBe(201);
  const stripe = await place('stripe', 'card@example.org');
  const transfer = await place('banktransfer', 'transfer@example.org');
  const orderPage = (o: { code: string; secret: string }) => `/demo/${event!.slug}/order/${o.code}/${o.secret}/`;
  const stripePage = await app.inject({ method: 'GET', url: orderPage(stripe.order), headers: { accept: 'text/html' } });
  const payTokens = [...stripePage.body.matchAll(/\/plugins\/stripe\/(?:pay|card)\/[^/]+\/([^/"?]+)/g)].map((m) => m[1]!);

  // Something of each newer kind to aim at: a webhook, an export, a team invitation.
  const webhook = await asApi('POST', '/api/v1/webhooks', { url: 'https://hooks.example.org/kassa', eventTypes: ['order.paid'] });
  expect(webhook.statusCode).toBe(201);
  let admin = await login(kassa.login!.email, kassa.login!.password);
  const form = (url: string, fields: Record<string, string>) => app.inject({
    method: 'POST', url, headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    payload: new URLSearchParams({ ...fields, _csrf: admin.csrf }).toString(),
  });
  expect((await form('/control/exports', { dataset: 'orders', format: 'csv' })).statusCode).toBeLessThan(400);
  const teams = await q<{ id: string }>('SELECT id FROM team WHERE organizer_id = $1', [org!.id]);
  const users = await q<{ id: string }>('SELECT id FROM app_user');
  const ids = async (sql: string) => (await q<{ id: string }>(sql)).map((r) => String(r.id));
  const accounts = await ids(`SELECT account_id AS id FROM stripe_account`);

  const valid: Record<string, string[]> = {
    organizer: ['demo'], event: [event!.slug], eventId: [event!.id], productId: products.map((p) => p.id), quotaId: quotas.map((x) => x.id),
    provider: ['manual', 'free', 'stripe', 'banktransfer'], orderId: [manual.order.id, paid.order.id, stripe.order.id, transfer.order.id],
    paymentId: [manual.payment!.id, paid.payment!.id, stripe.payment!.id, transfer.payment!.id], refundId: [refunded.json().refund.id as string],
    code: [manual.order.code, stripe.order.code], secret: [manual.order.secret, stripe.order.secret], token: payTokens, tokenId: [tokenId],
    teamId: teams.map((x) => x.id), userId: users.map((x) => x.id), organizerId: [org!.id], webhookId: [webhook.json().id as string],
    taskId: await ids('SELECT id FROM bulk_task'), instalmentId: await ids('SELECT id FROM plan_instalment'), deliveryId: await ids('SELECT id FROM webhook_delivery'),
    inviteId: await ids('SELECT id FROM team_invite'), methodId: await ids('SELECT id FROM stored_payment_method'),
    importId: await ids('SELECT id FROM banktransfer_import'), transactionId: await ids('SELECT id FROM banktransfer_transaction'),
    account: accounts, queue: ['events', 'emails', 'maintenance', 'plugins', 'webhooks', 'tasks'], emailId: ['00000000-0000-4000-8000-000000000000'],
  };
  expect(valid.taskId!.length).toBeGreaterThan(0);

  // A buyer with a cart, so the checkout steps have a checkout cookie (and its CSRF secret) to check against.
  const cart = await app.inject({
    method: 'POST', url: `/demo/${event!.slug}/cart`, remoteAddress: nextAddress(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: `qty_${products[0]!.id}=1`,
  });
  const step = await app.inject({ method: 'GET', url: String(cart.headers.location), headers: { cookie: cookieOf(cart), accept: 'text/html' } });
  // The first form's page adds the CSRF secret to the buyer's cookie.
  const buyerCookie = cookieOf(step, cookieOf(cart));
  const buyerCsrf = csrfOf(step.body)!;
  expect(buyerCsrf).toMatch(/^[\w-]{20,}$/);

  const stateSql = stateDigestSql(stateTables, rowText);
  const report = await runInputFuzz({
    seed, requests: requestCount, routes, valid,
    // The operator's form for Stripe's instance settings posts every field: a fuzzed post would clear
    // the emulator's API base (as an operator may), after which every Stripe call fails (502) for the
    // rest of the run. The other providers' instance forms are fuzzed; Stripe's is tested in
    // packages/server/test/control/operator-admin.test.ts and plugins/stripe/test/http/instance-only-settings.test.ts.
    validFor: (route, param) => (route.path === '/control/admin/settings/:provider' && param === 'provider' ? ['manual', 'free', 'banktransfer'] : undefined),
    state: async () => (await q<{ digest: string }>(stateSql))[0]!.digest,
    inject: (req) => app.inject({ ...req, method: req.method as 'GET' }),
    remoteAddress: nextAddress,
    identity: (route): FuzzIdentity => {
      if (route.path.startsWith('/api/') || /^\/plugins\/[^/]+\/api\//.test(route.path)) return { headers: { authorization: `Bearer ${tokens[turn++ % tokens.length]}` }, csrf: null };
      if (route.path.startsWith('/control') || /^\/plugins\/[^/]+\/control\//.test(route.path)) return { headers: { cookie: admin.cookie }, csrf: admin.csrf };
      return { headers: { cookie: buyerCookie }, csrf: buyerCsrf };
    },
    extraForm: (route, f, nasty) => {
      if (route.path.endsWith('/cart')) f.append(`qty_${products[0]!.id}`, nasty());
    },
    // A fuzzed request that ends the admin's session some other way (a team change, a deactivated
    // organizer): log in again, as the admin would.
    afterBatch: async (done) => {
      if (done.some((r) => r.route.path.startsWith('/control') && r.statusCode === 303)) {
        const check = await app.inject({ method: 'GET', url: '/control', headers: { cookie: admin.cookie } });
        if (check.statusCode !== 200) admin = await login(kassa.login!.email, kassa.login!.password);
      }
    },
  });

  expect(report.serverErrors.slice(0, 10)).toEqual([]);
  expect(report.changedOnRefusal.slice(0, 5)).toEqual([]);
  expect([...report.storable].filter(([key]) => !cacheable({ method: key.split(' ')[0]!, path: key.slice(key.indexOf(' ') + 1) })).slice(0, 10)).toEqual([]);
  // The payloads reached validation: most requests are refused as bad input, not at the door.
  expect(report.statuses.get(400) ?? 0).toBeGreaterThan(requestCount / 4);
  expect(report.statuses.get(429) ?? 0).toBeLessThan(requestCount / 20);
  expect(report.checkedBatches).toBeGreaterThan(requestCount / 10 / 3);
  // Every route was fuzzed (the requests go round the routes).
  expect(report.covered.size).toBe(routes.length);
}, 600_000); // a couple of minutes on a busy shared machine
