import { randomBytes } from 'node:crypto';
import { SettingsStore, createKassaCore, createProviderContextFactory, loadPlugins } from '@kassa/core/host';
import { buildApp, routesOf, shopMigrations } from '@kassa/server';
import { TestClock, createTestDatabase, type TestDatabase } from '@kassa/testing';
import type { FastifyInstance } from 'fastify';
import { bundledPlugins } from '../../src/bundled-plugins';

/*
 * Every control-panel and API route declares the permission it needs in its route config
 * (`config.permission`, packages/server/src/auth/permissions.ts), and one hook checks it. This
 * enumerates every route of the distribution's app (the bundled plugins included) as fastify
 * registers it, so a route added anywhere without a declaration fails here.
 */
let db: TestDatabase;
let app: FastifyInstance;

beforeAll(async () => {
  db = await createTestDatabase({ migrations: [...shopMigrations] });
  const clock = new TestClock(new Date());
  const loaded = loadPlugins(bundledPlugins, { clock });
  const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
  const baseUrl = 'http://127.0.0.1:3000';
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
  const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
  app = await buildApp({
    dataSource: db.dataSource, clock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
    config: { baseUrl, sessionSecret: randomBytes(32).toString('hex') }, pluginRoutes: loaded.routes, pluginViews: Object.fromEntries(loaded.views.map((v) => [v.plugin, v.dir])),
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await db?.destroy();
});

const guarded = (url: string) => url === '/control' || url.startsWith('/control/') || url.startsWith('/api/v1/') || /^\/plugins\/[^/]+\/(control|api)\//.test(url);

describe('route permissions', () => {
  it('finds the control, API and plugin routes', () => {
    const urls = routesOf(app).map((r) => r.url);
    for (const url of ['/control', '/control/orders/:orderId', '/control/teams', '/control/admin', '/api/v1/orders', '/plugins/stripe/control/payments/:paymentId/capture']) {
      expect(urls).toContain(url);
    }
  });

  it('every control-panel and API route declares its permission', () => {
    const undeclared = routesOf(app)
      .filter((r) => guarded(r.url) && (r.config as { permission?: unknown } | undefined)?.permission === undefined)
      .map((r) => `${String(r.method)} ${r.url}`);
    expect(undeclared).toEqual([]);
  });

  it('only login, logout and the invitation pages are public among them', () => {
    const publicOnes = routesOf(app)
      .filter((r) => r.method !== 'HEAD' && guarded(r.url) && ([] as unknown[]).concat((r.config as { permission?: unknown }).permission).includes('public'))
      .map((r) => `${String(r.method)} ${r.url}`).sort();
    expect(publicOnes).toEqual([
      'GET /control/invite/:token', 'GET /control/login', 'POST /control/invite/:token/accept', 'POST /control/invite/:token/register', 'POST /control/login', 'POST /control/logout',
    ]);
  });
});
