import { randomBytes } from 'node:crypto';
import {
  definePlugin, type BasePaymentProvider,
  createKassaCore, createProviderContextFactory, loadPlugins, organizerSettings, SettingsStore, Team, User,
  type Event, type KassaCore, type Organizer, type Product,
} from '@kassa/core/host';
import { createShop, createTestDatabase, TestClock, type TestDatabase } from '@kassa/testing';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app';
import { shopMigrations } from '../../src/shop';
import type { AppDeps, ServerConfig } from '../../src/deps';
import { hashPassword } from '../../src/auth/password';
import { createApiToken } from '../../src/auth/api-token';

/** Everything an HTTP test needs: the app on a fresh test schema, its deps, and a clock it controls. */
export interface TestApp {
  app: FastifyInstance;
  db: TestDatabase;
  deps: AppDeps;
  core: KassaCore;
  clock: TestClock;
  close(): Promise<void>;
}

export const testSecretKey = randomBytes(32);

/** buildApp over a fresh schema with the built-in providers (manual, free) and real core services. */
export async function createTestApp(
  config: Partial<ServerConfig> = {}, extra: Partial<AppDeps> | ((db: TestDatabase) => Partial<AppDeps>) = {}, providers: BasePaymentProvider[] = [],
): Promise<TestApp> {
  const db = await createTestDatabase({ migrations: [...shopMigrations], poolSize: 5 });
  const clock = new TestClock(new Date());
  const plugins = providers.length
    ? [definePlugin({ name: 'test-providers', version: '0.0.0', coreRange: '*', providers: providers.map((p) => () => p) })]
    : [];
  const loaded = loadPlugins(plugins, { clock });
  const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: testSecretKey });
  const baseUrl = config.baseUrl ?? 'http://127.0.0.1:3000';
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
  const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
  const deps: AppDeps = {
    dataSource: db.dataSource, clock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
    config: { baseUrl, sessionSecret: randomBytes(32).toString('hex'), passwordLogN: 10, ...config },
    ...(typeof extra === 'function' ? extra(db) : extra),
  };
  const app = await buildApp(deps);
  return {
    app, db, deps, core, clock,
    async close() {
      await app.close();
      await db.destroy();
    },
  };
}

/** A user in an (admin) team of the organizer. */
export async function createUser(t: TestApp, organizer: Organizer, opts: { email?: string; password?: string; isAdmin?: boolean } = {}): Promise<{ user: User; email: string; password: string }> {
  const email = opts.email ?? `user-${randomBytes(4).toString('hex')}@example.test`;
  const password = opts.password ?? 'correct horse battery staple';
  const ds = t.db.dataSource;
  const user = await ds.getRepository(User).save({ email, passwordHash: await hashPassword(password, { logN: 10 }), name: 'Test User', isActive: true });
  // A non-admin gets what members had before team permissions: events and orders, no settings, no teams.
  const member = { canCreateEvents: true, canChangeEventSettings: true, canViewOrders: true, canChangeOrders: true };
  const team = await ds.getRepository(Team).save({ organizerId: organizer.id, name: 'Admins', isAdmin: opts.isAdmin ?? true, ...(opts.isAdmin === false ? member : {}) });
  await ds.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [team.id, user.id]);
  return { user, email, password };
}

/** One organizer with an event (manual payment enabled), a user and an API token. */
export interface OrganizerFixture {
  organizer: Organizer;
  event: Event;
  product: Product;
  email: string;
  password: string;
  token: string;
}

export async function createOrganizerFixture(t: TestApp, opts: { price?: number } = {}): Promise<OrganizerFixture> {
  const shop = await createShop(t.db.dataSource, { price: opts.price ?? 2500 });
  const { email, password } = await createUser(t, shop.organizer);
  await t.deps.settings.set(organizerSettings(shop.organizer.id), 'payment.manual', {
    _enabled: true, publicName: 'Bank transfer', pendingInstructions: 'IBAN DE00 0000',
  });
  const { token } = await createApiToken(t.db.dataSource, shop.organizer.id, 'test');
  return { organizer: shop.organizer, event: shop.event, product: shop.product, email, password, token };
}

/** A pending order paid by the manual provider, with its created payment. */
export async function placeManualOrder(t: TestApp, f: OrganizerFixture, email = 'buyer@example.test') {
  const placed = await t.core.orders.placeOrder({ eventId: f.event.id, email, positions: [{ productId: f.product.id }], provider: 'manual' });
  return { order: placed.order, payment: placed.payment! };
}

/** The Set-Cookie values of a response, as one Cookie header. */
export function cookieOf(res: LightMyRequestResponse, previous = ''): string {
  const jar = new Map(previous.split('; ').filter(Boolean).map((c) => [c.split('=')[0]!, c] as const));
  for (const c of res.cookies) jar.set(c.name, `${c.name}=${c.value}`);
  return [...jar.values()].join('; ');
}

/** The CSRF token of the first form on a page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

/** A logged-in browser: its cookie and a fresh CSRF token. */
export interface Browser {
  cookie: string;
  csrf: string;
}

export async function login(t: TestApp, email: string, password: string): Promise<Browser> {
  const page = await t.app.inject({ method: 'GET', url: '/control/login' });
  let cookie = cookieOf(page);
  const res = await t.app.inject({
    method: 'POST', url: '/control/login', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email, password, _csrf: csrfOf(page.body) }).toString(),
  });
  if (res.statusCode !== 303) throw new Error(`login failed: ${res.statusCode} ${res.body.slice(0, 300)}`);
  cookie = cookieOf(res, cookie);
  let dash = await t.app.inject({ method: 'GET', url: '/control', headers: { cookie } });
  // Whoever may not see the dashboard's figures is sent to a page they may see (orders, account).
  if (dash.statusCode === 303 && typeof dash.headers.location === 'string') dash = await t.app.inject({ method: 'GET', url: dash.headers.location, headers: { cookie } });
  return { cookie, csrf: csrfOf(dash.body) };
}

/** Posts a form as the browser (with its CSRF token unless `csrf: null`). */
export function postForm(t: TestApp, b: Browser, url: string, fields: Record<string, string | string[]> = {}, opts: { csrf?: string | null } = {}) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of ([] as string[]).concat(v)) body.append(k, x);
  const csrf = opts.csrf === undefined ? b.csrf : opts.csrf;
  if (csrf !== null) body.set('_csrf', csrf);
  return t.app.inject({ method: 'POST', url, headers: { cookie: b.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: body.toString() });
}

export function getPage(t: TestApp, b: Browser, url: string) {
  return t.app.inject({ method: 'GET', url, headers: { cookie: b.cookie, accept: 'text/html' } });
}

/** The hidden fields a page's forms carry besides CSRF: the one-time action key and the last refund it was built from. */
export function formFieldsOf(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  const key = /name="_actionKey" value="([^"]*)"/.exec(html);
  if (key) out._actionKey = key[1]!;
  const last = /name="lastKnownRefundId" value="([^"]*)"/.exec(html);
  if (last) out.lastKnownRefundId = last[1]!;
  return out;
}

/**
 * Posts one of a page's forms as a browser does: loads the page (the order page, or the refund form
 * for a refund) and sends its hidden fields with `fields`.
 */
export async function postFromPage(t: TestApp, b: Browser, url: string, fields: Record<string, string | string[]> = {}, pageUrl = pageOf(url)) {
  const page = await getPage(t, b, pageUrl);
  if (page.statusCode !== 200) throw new Error(`page ${pageUrl} answered ${page.statusCode}`);
  return postForm(t, b, url, { ...formFieldsOf(page.body), ...fields });
}

/** The page an order action's form is on: the refund form for /refund, otherwise the order page. */
function pageOf(actionUrl: string): string {
  const m = /^\/control\/orders\/([0-9a-f-]{36})(\/refund$)?/.exec(actionUrl);
  if (!m) throw new Error(`no page known for ${actionUrl}`);
  return m[2] ? `/control/orders/${m[1]}/refund` : `/control/orders/${m[1]}`;
}
