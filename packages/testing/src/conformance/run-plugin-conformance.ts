import {
  KassaError, SettingsStore, createKassaCore, createPluginDb, createPluginRuntimes, createProviderContextFactory, loadPlugins, organizerSettings,
  pluginError, type DataSource, type KassaCore, type Plugin, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntimes,
} from '@kassa/core/host';
import { randomBytes } from 'node:crypto';
import { TestClock } from '../clock';
import { createShop, type ShopFixture } from '../factories';
import { createTestDatabase, type TestDatabase } from '../test-database';

/** What a route or job check gets: the database, core, the plugin port and a sample payment of the plugin's provider. */
export interface PluginConformanceContext {
  readonly dataSource: DataSource;
  readonly core: KassaCore;
  readonly runtimes: PluginRuntimes;
  readonly shop: ShopFixture;
  /** A payment of `options.provider`, placed and executed before each route check (absent without a provider). */
  readonly paymentId: string;
  /** Jobs the routes enqueued, in order. */
  readonly enqueued: readonly { job: string; payload: Record<string, unknown> }[];
}

export interface PluginRouteCheck {
  readonly method: PluginHttpRequest['method'];
  /** The declared path, e.g. "/notify/:paymentId". */
  readonly path: string;
  /** The request the route gets (params, body, headers…), built from the context. */
  readonly request: (ctx: PluginConformanceContext) => Partial<PluginHttpRequest>;
  readonly expectStatus: number;
  /** What must hold afterwards (rows, states, events). */
  readonly verify?: (ctx: PluginConformanceContext, res: PluginHttpResponse) => Promise<void>;
}

export interface PluginJobCheck {
  readonly payload: (ctx: PluginConformanceContext) => Record<string, unknown>;
  readonly verify?: (ctx: PluginConformanceContext) => Promise<void>;
}

export interface PluginConformanceOptions {
  /** One of the plugin's providers: the suite enables it for a sample organizer and pays a sample order with it. */
  readonly provider?: string;
  /** That provider's settings at the organizer level (besides `_enabled`). */
  readonly providerSettings?: Record<string, unknown>;
  /** Route checks by label, each on a fresh sample payment. */
  readonly routes?: Readonly<Record<string, PluginRouteCheck>>;
  /** Job checks by the job's declared name. */
  readonly jobs?: Readonly<Record<string, PluginJobCheck>>;
}

/**
 * The plugin conformance suite: a jest `describe` block a plugin author calls in a test file. On
 * the real PostgreSQL with the real migrations, it checks what core relies on from a plugin built
 * on the port: it loads next to core (its error codes collide with none and render), its plain
 * migrations run through the migration runner and revert, `setup` makes one state per host that
 * closes with it, and the author's route and job checks pass through the same runtime the
 * server and worker build.
 *
 * @example
 * runPluginConformance(createAcmePlugin, { provider: 'acme', routes: { notify: { method: 'POST', path: '/notify/:paymentId', … } } });
 */
export function runPluginConformance(makePlugin: () => Plugin, options: PluginConformanceOptions = {}): void {
  const plugin = makePlugin();
  describe(`plugin conformance: ${plugin.name}`, () => {
    let db: TestDatabase;
    let core: KassaCore;
    let settings: SettingsStore;
    let shop: ShopFixture;
    const clock = new TestClock('2030-03-01T10:00:00Z');
    const baseUrl = 'https://shop.kassa.test';
    const loaded = loadPlugins([plugin], { clock });

    beforeAll(async () => {
      db = await createTestDatabase({ migrations: [...loaded.migrations], poolSize: 4 });
      settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
      const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
      core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
      shop = await createShop(db.dataSource, { price: 2500 });
      if (options.provider) {
        await settings.set(organizerSettings(shop.organizer.id), `payment.${options.provider}`, { _enabled: true, ...options.providerSettings });
      }
    });
    afterAll(async () => { await db?.destroy(); });

    const runtimesFor = (): PluginRuntimes => createPluginRuntimes({ core, dataSource: db.dataSource, settings, clock, baseUrl }, [plugin]);
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

    it('loads next to core and the built-ins; each of its error codes is its own and renders as a KassaError', () => {
      for (const [code, def] of Object.entries(plugin.errors ?? {})) {
        const err = pluginError(plugin.errors ?? {}, code, {});
        expect(err).toBeInstanceOf(KassaError);
        expect([err.code, err.status]).toEqual([code, def.status]);
      }
      expect(loaded.errors.map((e) => e.plugin)).toEqual(plugin.errors ? [plugin.name] : []);
    });

    it('runs its migrations with core\'s through the migration runner, and each reverts and applies again', async () => {
      const names = (await db.dataSource.query('SELECT name FROM kassa_migrations')).map((r: { name: string }) => r.name);
      for (const m of plugin.migrations ?? []) expect(names).toContain(m.name);
      const pdb = createPluginDb(db.dataSource);
      await pdb.transaction(async (tx) => {
        for (const m of [...(plugin.migrations ?? [])].reverse()) await m.down(tx);
        for (const m of plugin.migrations ?? []) await m.up(tx);
      });
    });

    it('makes one state per host with setup, and closes it with the host', async () => {
      const runtimes = runtimesFor();
      const io = { enqueue: async () => undefined, log: quiet };
      const a = runtimes.runtime(plugin.name, io);
      const b = runtimes.runtime(plugin.name, io);
      expect(a.state).toBe(b.state);
      expect(runtimesFor().runtime(plugin.name, io).state === a.state && a.state !== undefined).toBe(false);
      const state = a.state as { close?: () => Promise<void> } | undefined;
      let closed = false;
      if (state && typeof state.close === 'function') {
        const close = state.close.bind(state);
        state.close = async () => { closed = true; await close(); };
      }
      await runtimes.close();
      expect(closed).toBe(typeof state?.close === 'function');
      expect(() => runtimes.runtime(plugin.name, io)).toThrow(/closed/);
    });

    /** A fresh order paid with the provider, executed; the context the checks get. */
    async function context(runtimes: PluginRuntimes, enqueued: { job: string; payload: Record<string, unknown> }[]): Promise<PluginConformanceContext> {
      let paymentId = '';
      if (options.provider) {
        const placed = await core.orders.placeOrder({ eventId: shop.event.id, email: 'buyer@example.org', positions: [{ productId: shop.product.id }], provider: options.provider });
        paymentId = placed.payment!.id;
        await core.payments.executePayment(paymentId, {});
      }
      return { dataSource: db.dataSource, core, runtimes, shop, paymentId, enqueued };
    }

    for (const [label, check] of Object.entries(options.routes ?? {})) {
      it(`route ${check.method} ${check.path} (${label}) answers ${check.expectStatus} through the port`, async () => {
        const route = plugin.routes?.find((r) => r.method === check.method && r.path === check.path);
        expect(route).toBeDefined();
        const runtimes = runtimesFor();
        const enqueued: { job: string; payload: Record<string, unknown> }[] = [];
        try {
          const ctx = await context(runtimes, enqueued);
          const req: PluginHttpRequest = { method: check.method, params: {}, query: {}, headers: {}, rawBody: Buffer.alloc(0), ...check.request(ctx) };
          const rt = runtimes.runtime(plugin.name, { log: quiet, enqueue: async (job, payload) => { enqueued.push({ job, payload }); } });
          let res: PluginHttpResponse;
          try {
            res = await route!.handler(req, rt);
          } catch (err) {
            // A refusal is an answer too: the server renders the KassaError with its status.
            if (!(err instanceof KassaError)) throw err;
            res = { status: err.status, body: { error: err.toJSON() } };
          }
          expect('status' in res ? res.status ?? 200 : 200).toBe(check.expectStatus);
          await check.verify?.(ctx, res);
        } finally {
          await runtimes.close();
        }
      });
    }

    for (const [name, check] of Object.entries(options.jobs ?? {})) {
      it(`job ${name} runs with its payload through the port`, async () => {
        const job = plugin.jobs?.find((j) => j.name === name);
        expect(job).toBeDefined();
        const runtimes = runtimesFor();
        try {
          const ctx = await context(runtimes, []);
          const rt = runtimes.runtime(plugin.name, { log: quiet, enqueue: async () => undefined });
          await job!.processor(check.payload(ctx), { ...rt, attempt: 1 });
          await check.verify?.(ctx);
        } finally {
          await runtimes.close();
        }
      });
    }
  });
}
