import { randomBytes } from 'node:crypto';
import {
  SettingsStore, Team, User, createKassaCore, createPluginRuntimes, createProviderContextFactory, loadPlugins, type PluginRuntime,
} from '@kassa/core/host';
import { buildApp, hashPassword, shopMigrations, type AppDeps } from '@kassa/server';
import { TestClock, createTestDatabase, type TestDatabase } from '@kassa/testing';
import { createBankTransferPlugin } from '../../src';
import type { BankHarness } from './bank-harness';

/** The real server (sessions, CSRF, plugin mounting) with the bank transfer plugin on a fresh database. */
export interface ServerHarness extends BankHarness {
  app: Awaited<ReturnType<typeof buildApp>>;
  /** Signs in an admin of the organizer: the session cookie and a CSRF token for form posts. */
  signIn(organizerId: string): Promise<{ cookie: string; csrf: string }>;
  /** The one-time action key (`_actionKey`) a control page hands its forms, as a browser would read it. */
  pageKey(who: { cookie: string }, url: string): Promise<string>;
}

let users = 0;

export async function createServerHarness(): Promise<ServerHarness> {
  const plugin = createBankTransferPlugin();
  const clock = new TestClock(new Date());
  const loaded = loadPlugins([plugin], { clock });
  const db: TestDatabase = await createTestDatabase({ entities: [...loaded.entities], migrations: [...loaded.migrations, ...shopMigrations], poolSize: 5 });
  const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
  const baseUrl = 'http://127.0.0.1:3000';
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
  const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
  const enqueued: ServerHarness['enqueued'] = [];
  const deps: AppDeps = {
    dataSource: db.dataSource, clock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
    config: { baseUrl, sessionSecret: randomBytes(32).toString('hex'), passwordLogN: 10 },
    pluginViews: Object.fromEntries(loaded.views.map((v) => [v.plugin, v.dir])),
    pluginRoutes: loaded.routes,
    enqueuePluginJob: async (_plugin, job, payload, o) => { enqueued.push({ job, payload, ...(o?.jobId ? { jobId: o.jobId } : {}) }); },
  };
  const app = await buildApp(deps);
  const runtimes = createPluginRuntimes({ core, dataSource: db.dataSource, settings, clock, baseUrl }, [plugin]);
  const rt: PluginRuntime = runtimes.runtime(plugin, { enqueue: async () => undefined, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });

  async function signIn(organizerId: string): Promise<{ cookie: string; csrf: string }> {
    const ds = db.dataSource;
    users += 1;
    const email = `admin${users}@example.org`;
    const user = await ds.getRepository(User).save({ email, passwordHash: await hashPassword('correct horse battery', { logN: 10 }), name: 'Admin', isActive: true });
    const team = await ds.getRepository(Team).save({ organizerId, name: `Admins ${users}`, isAdmin: true });
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
    const page = await app.inject({ method: 'GET', url: '/plugins/banktransfer/control/imports', headers: { cookie: cookie() } });
    if (page.statusCode !== 200) throw new Error(`imports page: ${page.statusCode} ${page.body.slice(0, 300)}`);
    keep(page);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
    return { cookie: cookie(), csrf };
  }

  async function pageKey(who: { cookie: string }, url: string): Promise<string> {
    const page = await app.inject({ method: 'GET', url, headers: { cookie: who.cookie, accept: 'text/html' } });
    const key = /name="_actionKey" value="([^"]+)"/.exec(page.body)?.[1];
    if (page.statusCode !== 200 || !key) throw new Error(`no action key on ${url}: ${page.statusCode} ${page.body.slice(0, 300)}`);
    return key;
  }

  return {
    db, core, settings, clock, rt, enqueued, app, signIn, pageKey, providers: loaded.providers, providerContext,
    async destroy() {
      await app.close();
      await runtimes.close();
      await db.destroy();
    },
  };
}
