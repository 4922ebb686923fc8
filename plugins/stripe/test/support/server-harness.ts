import { randomBytes } from 'node:crypto';
import {
  SettingsStore, Team, User, createKassaCore, createProviderContextFactory, globalSettings, loadPlugins,
} from '@kassa/core/host';
import { buildApp, hashPassword, shopMigrations, type AppDeps } from '@kassa/server';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '@kassa/stripe-emulator';
import { TestClock, createShop, createTestDatabase, type ShopFixture, type TestDatabase } from '@kassa/testing';
import { STRIPE_NAMESPACE, createStripePlugin, type StripeRuntime } from '../../src';
import { stripeRuntime } from './stripe-harness';

/**
 * The real server (sessions, CSRF, CSP, plugin mounting) on a fresh database with the Stripe plugin
 * and the emulator, as an instance with shared keys: the operator's settings (the instance's test
 * key, and the emulator as apiBase and Stripe.js) are written globally before the app is built, as
 * KASSA_INSTANCE_SETTINGS does at start (the CSP is computed from them at boot).
 */
export interface ServerHarness {
  emulator: RunningEmulator;
  db: TestDatabase;
  deps: AppDeps;
  app: Awaited<ReturnType<typeof buildApp>>;
  rt: StripeRuntime;
  shop: ShopFixture;
  instanceKey: string;
  baseUrl: string;
  jobs: { job: string; payload: Record<string, unknown>; jobId?: string }[];
  /**
   * Signs in an admin of the organizer (or, with `operator`, an instance operator in one of its
   * teams; with `admin: false`, a member of a team without rights); cookie and a CSRF token for form posts.
   */
  signIn(organizerId: string, opts?: { operator?: boolean; admin?: boolean }): Promise<{ cookie: string; csrf: string }>;
  destroy(): Promise<void>;
}

let users = 0;

/** Wallet tests: the emulator's options (Apple's verifier), the operator's association file, another BASE_URL; browser tests: listen. */
export interface ServerHarnessOptions {
  emulator?: EmulatorOptions | ((app: () => ServerHarness['app']) => EmulatorOptions);
  applePayDomainAssociation?: string;
  baseUrl?: string;
  /** Listens on a free loopback port (browser tests); baseUrl is then that address. */
  listen?: boolean;
  /** Where the server enqueues plugin jobs (a real jobs runtime); by default they are recorded in `jobs`. */
  enqueuePluginJob?: AppDeps['enqueuePluginJob'];
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as { port: number }; srv.close(() => resolve(port)); });
  });
}

export async function createServerHarness(opts: ServerHarnessOptions = {}): Promise<ServerHarness> {
  // The emulator starts before the app exists; its options may reach the app once built (Apple's verifier).
  const built: { app?: ServerHarness['app'] } = {};
  const emulatorOptions = typeof opts.emulator === 'function' ? opts.emulator(() => built.app as ServerHarness['app']) : opts.emulator;
  const emulator = await startEmulator(emulatorOptions);
  const loaded = loadPlugins([createStripePlugin()]);
  const db = await createTestDatabase({ entities: [...loaded.entities], migrations: [...loaded.migrations, ...shopMigrations], poolSize: 5 });
  const clock = new TestClock(new Date());
  const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
  const port = opts.listen ? await freePort() : 3000;
  const baseUrl = opts.listen ? `http://127.0.0.1:${port}` : (opts.baseUrl ?? 'http://127.0.0.1:3000');
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
  const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
  const instanceKey = `sk_test_instance${process.pid}`;
  await settings.set(globalSettings, STRIPE_NAMESPACE, {
    _enabled: true, secretKey: instanceKey, publishableKey: emulator.keysFor(instanceKey).publishableKey,
    apiBase: emulator.url, stripeJsUrl: emulator.stripeJsUrl, maxNetworkRetries: 0,
  });
  const jobs: ServerHarness['jobs'] = [];
  const deps: AppDeps = {
    dataSource: db.dataSource, clock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
    config: { baseUrl, sessionSecret: randomBytes(32).toString('hex'), passwordLogN: 10, ...(opts.applePayDomainAssociation ? { applePayDomainAssociation: opts.applePayDomainAssociation } : {}) },
    pluginViews: Object.fromEntries(loaded.views.map((v) => [v.plugin, v.dir])),
    pluginRoutes: loaded.routes,
    pluginDashboardNotices: loaded.dashboardNotices,
    enqueuePluginJob: opts.enqueuePluginJob ?? (async (_plugin, job, payload, o) => { jobs.push({ job, payload, ...(o?.jobId ? { jobId: o.jobId } : {}) }); }),
  };
  const app = await buildApp(deps);
  built.app = app;
  if (opts.listen) await app.listen({ port, host: '127.0.0.1' });
  const shop = await createShop(db.dataSource, { price: 4200 });
  const rt = stripeRuntime({ core, dataSource: db.dataSource, settings, clock, baseUrl });

  async function signIn(organizerId: string, opts: { operator?: boolean; admin?: boolean } = {}): Promise<{ cookie: string; csrf: string }> {
    const ds = db.dataSource;
    users += 1;
    const email = `admin${users}@example.org`;
    const user = await ds.getRepository(User).save({ email, passwordHash: await hashPassword('correct horse battery', { logN: 10 }), name: 'Admin', isActive: true, isOperator: opts.operator === true });
    const team = await ds.getRepository(Team).save({ organizerId, name: `Admins ${users}`, isAdmin: opts.admin !== false });
    await ds.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [team.id, user.id]);
    const jar = new Map<string, string>();
    const keep = (res: { cookies: { name: string; value: string }[] }) => { for (const c of res.cookies) jar.set(c.name, `${c.name}=${c.value}`); };
    const cookie = () => [...jar.values()].join('; ');
    const loginPage = await app.inject({ method: 'GET', url: '/control/login' });
    keep(loginPage);
    const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(loginPage.body)?.[1] as string;
    const loggedIn = await app.inject({
      method: 'POST', url: '/control/login', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email, password: 'correct horse battery', _csrf: loginCsrf }).toString(),
    });
    if (loggedIn.statusCode !== 303) throw new Error(`login failed: ${loggedIn.statusCode}`);
    keep(loggedIn);
    // A page every signed-in user may open carries the session's CSRF token.
    const page = await app.inject({ method: 'GET', url: opts.admin === false ? '/control' : '/control/settings/payment/stripe', headers: { cookie: cookie() } });
    keep(page);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
    return { cookie: cookie(), csrf };
  }

  return {
    emulator, db, deps, app, rt, shop, instanceKey, baseUrl, jobs, signIn,
    async destroy() {
      await app.close();
      await db.destroy();
      await emulator.close();
    },
  };
}
