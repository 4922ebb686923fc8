import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SettingsStore, createKassaCore, type PluginHttpResponse, createPluginRuntimes, createProviderContextFactory, loadPlugins, organizerSettings, globalSettings,
  type KassaCore, type LoadedPlugins, type OrderPayment, type PluginHostDeps, type PluginHttpRequest, type PluginIo, type PluginRuntimes,
} from '@kassa/core/host';
import { startEmulator, type RunningEmulator } from '@kassa/stripe-emulator';
import { TestClock, createShop, createTestDatabase, type ShopFixture, type TestDatabase } from '@kassa/testing';
import Stripe from 'stripe';
import {
  createStripePlugin, createStripeClient, handleConnectWebhook, handleWebhook, processEventBatch, processInboxEvent, registerAccount, storeEndpointSecret, webhookSecretsFor, STRIPE_NAMESPACE,
  type StripeRuntime,
} from '../../src';
import { handleIntent, handlePayPage, handleReturn } from '../../src/routes/checkout-routes';
import { shopMigrations } from '../../../../packages/server/src/shop';

/** Everything a Stripe plugin test needs: emulator, database with the plugin's tables, core, a runtime. */
export interface StripeHarness {
  emulator: RunningEmulator;
  db: TestDatabase;
  loaded: LoadedPlugins;
  core: KassaCore;
  settings: SettingsStore;
  clock: TestClock;
  /** The plugin's runtime, built by core's plugin port over this database (the plugin's state included). */
  rt: StripeRuntime;
  /** The plugin port the runtime comes from (a test can build a second runtime of the same host). */
  runtimes: PluginRuntimes;
  /** Jobs the code under test enqueued, in order. */
  enqueued: { job: string; payload: Record<string, unknown>; jobId?: string }[];
  shop: ShopFixture;
  secretKey: string;
  /** The key the settings store encrypts secrets with (a second store on a copy of the database needs it). */
  settingsKey: Buffer;
  /** The local host's base URL: Kassa as the emulator sees it (webhooks are delivered here over HTTP). */
  baseUrl: string;
  /** Runs every process-event job enqueued so far (what the worker would do); returns their outcomes. */
  runJobs(): Promise<string[]>;
  /** A client on the emulator with the shop's key (plays Stripe's dashboard and the buyer's browser). */
  stripe: Stripe;
  destroy(): Promise<void>;
}

let keyCounter = 0;

/** Starts the emulator and a fresh database, and configures Stripe for one organizer. */
export interface HarnessOptions {
  captureMethod?: 'automatic' | 'manual';
  currency?: string;
  price?: number;
  webhookSecrets?: string[];
  /** Where the Stripe keys are set: the organizer (default) or instance-wide, as the embedded default does. */
  keysAt?: 'organizer' | 'global';
  /** Renders a plugin page's view model to a full HTML page (browser tests); without it the host serves no pages. */
  renderPage?: (view: { partial: string; data: Record<string, unknown> }) => string | { html: string; headers: Record<string, string> };
  /** Payouts are paid only when a test says so (the emulator's control), not by its 1 s timer. */
  holdPayouts?: boolean;
}

export async function createStripeHarness(opts: HarnessOptions = {}): Promise<StripeHarness> {
  // Refunds that "fail later" fail only when a test says so (a timer raced slow runs).
  const emulator = await startEmulator({ delays: { refundFailMs: 3_600_000, ...(opts.holdPayouts ? { payoutPaidMs: 3_600_000 } : {}) } });
  // A minimal host on loopback: the emulator delivers webhooks here, straight into the plugin's handler.
  const host = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      serve(req.method ?? 'GET', new URL(req.url ?? '/', 'http://host'), req.headers, Buffer.concat(chunks))
        .then((out) => {
          if ('redirect' in out) { res.writeHead(out.status ?? 303, { location: out.redirect }).end(); return; }
          if ('view' in out) {
            if (!opts.renderPage) { res.writeHead(500).end('no renderer'); return; }
            const page = opts.renderPage(out.view);
            const { html, headers: extra } = typeof page === 'string' ? { html: page, headers: {} } : page;
            res.writeHead(out.status ?? 200, { 'content-type': 'text/html; charset=utf-8', ...extra }).end(html);
            return;
          }
          res.writeHead(out.status, { 'content-type': 'application/json', ...(out.headers ?? {}) }).end(JSON.stringify(out.body ?? {}));
        })
        .catch((err: unknown) => { res.writeHead((err as { status?: number }).status ?? 500).end(String(err)); });
    });
  });
  /** A minimal host: the plugin's webhook and shop routes, and an order page showing the payment states. */
  async function serve(method: string, url: URL, headers: Record<string, string | string[] | undefined>, rawBody: Buffer): Promise<PluginHttpResponse> {
    const p = url.pathname;
    const req = <P extends Record<string, string>>(params: P) => ({ method, params, query: Object.fromEntries(url.searchParams), headers, rawBody });
    let m = /^\/plugins\/stripe\/webhook\/([^/]+)$/.exec(p);
    if (method === 'POST' && m) return handleWebhook(req({ account: m[1] as string }), rt);
    if (method === 'POST' && p === '/plugins/stripe/webhook-connect') return handleConnectWebhook(req({}), rt);
    m = /^\/plugins\/stripe\/(pay|intent|return)\/([0-9a-f-]{36})\/([A-Za-z0-9_-]+)$/.exec(p);
    if (m) {
      const params = { paymentId: m[2] as string, token: m[3] as string };
      if (m[1] === 'pay' && method === 'GET') return handlePayPage(req(params), rt);
      if (m[1] === 'intent' && method === 'POST') return handleIntent(req(params), rt);
      if (m[1] === 'return' && method === 'GET') return handleReturn(req(params), rt);
    }
    m = /\/order\/([A-Z0-9]+)\/[^/]+\/$/.exec(p);
    if (method === 'GET' && m && opts.renderPage) {
      const rows: { state: string }[] = await db.dataSource.query(
        `SELECT p.state FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE o.code = $1 ORDER BY p.local_id`, [m[1]]);
      return { status: 200, view: { partial: '__order', data: { code: m[1], states: rows.map((r) => r.state) } } };
    }
    return { status: 404, body: { error: 'not found' } };
  }
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  const plugin = createStripePlugin();
  const loaded = loadPlugins([plugin]);
  // The shop's own table too, so a test can also mount the real server on this database.
  const db = await createTestDatabase({ migrations: [...loaded.migrations, ...shopMigrations], poolSize: 6 });
  const clock = new TestClock('2030-03-01T10:00:00Z');
  const settingsKey = randomBytes(32);
  const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: settingsKey });
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
  const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
  const shop = await createShop(db.dataSource, { price: opts.price ?? 2500, currency: opts.currency ?? 'EUR' });
  keyCounter += 1;
  const secretKey = `sk_test_harness${process.pid}x${keyCounter}`;
  // Where Stripe is (the emulator) is the instance's decision: global, as the operator's configuration sets it.
  await settings.set(globalSettings, STRIPE_NAMESPACE, { apiBase: emulator.url, stripeJsUrl: emulator.stripeJsUrl });
  const keysTarget = opts.keysAt === 'global' ? globalSettings : organizerSettings(shop.organizer.id);
  await settings.set(keysTarget, STRIPE_NAMESPACE, {
    _enabled: true,
    secretKey,
    publishableKey: emulator.keysFor(secretKey).publishableKey,
    captureMethod: opts.captureMethod ?? 'automatic',
    maxNetworkRetries: 0,
  });
  const enqueued: StripeHarness['enqueued'] = [];
  const runtimes = createPluginRuntimes({ core, dataSource: db.dataSource, settings, clock, baseUrl }, [plugin]);
  const rt = runtimes.runtime(plugin, {
    enqueue: async (job, payload, o) => { enqueued.push({ job, payload, ...(o?.jobId ? { jobId: o.jobId } : {}) }); },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const stripe = createStripeClient({ secretKey, apiBase: emulator.url, maxNetworkRetries: 0 });
  // Signing secrets of endpoints made elsewhere (say, in Stripe's dashboard): one endpoint row each, for the shop's account.
  for (const [i, secret] of (opts.webhookSecrets ?? []).entries()) {
    const { account } = await registerAccount(rt, keysTarget);
    await storeEndpointSecret(rt, { endpointId: `we_harness${i}`, accountId: account.accountId, target: keysTarget, secret });
  }
  let ran = 0;
  return {
    emulator, db, loaded, core, settings, clock, rt, runtimes, enqueued, shop, secretKey, settingsKey, stripe, baseUrl,
    async runJobs() {
      const outcomes: string[] = [];
      // Rows stored within the writer's hand-on spacing are still waiting for their job: hand them on.
      await rt.state.inbox.drain();
      while (ran < enqueued.length) {
        const job = enqueued[ran++] as StripeHarness['enqueued'][number];
        outcomes.push(...(await runEventJob(rt, job)));
      }
      return outcomes;
    },
    async destroy() {
      await emulator.close();
      await new Promise<void>((resolve) => (host as Server).close(() => resolve()));
      await runtimes.close();
      await db.destroy();
    },
  };
}

/** The signing secrets that verify the shop account's events (its endpoint rows), newest first. */
export async function accountSecrets(h: Pick<StripeHarness, 'rt' | 'db'>): Promise<string[]> {
  const [row] = await h.db.dataSource.query('SELECT account_id FROM stripe_account ORDER BY created_at LIMIT 1');
  return row ? (await webhookSecretsFor(h.rt, row.account_id)) ?? [] : [];
}

/** The signing secret stored on one endpoint row (opened with the instance's key), or null. */
export async function endpointSecret(h: Pick<StripeHarness, 'settings' | 'db'>, endpointId: string): Promise<string | null> {
  const [row] = await h.db.dataSource.query('SELECT secret FROM stripe_webhook_endpoint WHERE endpoint_id = $1', [endpointId]);
  return row?.secret ? (h.settings.openSecret(`stripe-webhook-endpoint:${endpointId}`, row.secret) as string) : null;
}

/** Places an order paid with Stripe and runs executePayment (which creates the PaymentIntent). */
export async function placeStripeOrder(h: StripeHarness): Promise<{ orderId: string; payment: OrderPayment; intentId: string; payUrl: string }> {
  const placed = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'buyer@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
  const payment = placed.payment as OrderPayment;
  const { outcome } = await h.core.payments.executePayment(payment.id, {});
  if (outcome.kind !== 'requires_action') throw new Error(`expected requires_action, got ${outcome.kind}`);
  const row = await h.core.payments.loadPayment(payment.id);
  return { orderId: placed.order.id, payment: row.payment, intentId: String(row.payment.info.intentId), payUrl: outcome.redirectUrl };
}

/** The browser's confirm (what Stripe.js does with the Payment Element), with a test payment method. */
export async function buyerConfirms(h: StripeHarness, intentId: string, paymentMethod: string): Promise<Stripe.PaymentIntent> {
  try {
    return await h.stripe.paymentIntents.confirm(intentId, { payment_method: paymentMethod, return_url: 'https://shop.invalid/return' });
  } catch (err) {
    if (err instanceof Stripe.errors.StripeCardError) return h.stripe.paymentIntents.retrieve(intentId);
    throw err;
  }
}

/** Path params of a pay/return link. */
export function linkParams(url: string): { paymentId: string; token: string } {
  const m = /\/(?:pay|return|intent)\/([0-9a-f-]{36})\/([A-Za-z0-9_-]+)$/.exec(url);
  if (!m) throw new Error(`not a Stripe link: ${url}`);
  return { paymentId: m[1] as string, token: m[2] as string };
}

/**
 * A request as the server hands it to a plugin route. With an organizerId it stands for a control
 * route called by a signed-in user, an admin of that organizer unless `isAdmin: false`.
 */
export function httpRequest<P extends object, B = never>(
  params: P, extra: Partial<{ body: B; headers: Record<string, string>; rawBody: Buffer; organizerId: string; isAdmin: boolean; query: Record<string, string> }> = {},
): PluginHttpRequest<P, B> {
  return {
    method: 'GET', params, query: extra.query ?? {}, headers: extra.headers ?? {}, rawBody: extra.rawBody ?? Buffer.alloc(0),
    ...(extra.body !== undefined ? { body: extra.body } : {}),
    ...(extra.organizerId ? { organizerId: extra.organizerId, isAdmin: extra.isAdmin ?? true } : {}),
  };
}

/** A Stripe runtime over other services (a second host, the server's deps), built by core's plugin port like the hosts build it. */
export function stripeRuntime(deps: PluginHostDeps, io: Partial<PluginIo> = {}): StripeRuntime {
  const plugin = createStripePlugin();
  return createPluginRuntimes(deps, [plugin]).runtime(plugin, {
    enqueue: io.enqueue ?? (async () => undefined),
    log: io.log ?? { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

export async function paymentRow(h: StripeHarness, id: string): Promise<{ state: string; amount: number; info: Record<string, unknown> }> {
  const [row] = await h.db.dataSource.query('SELECT state, amount::int AS amount, info FROM order_payment WHERE id = $1', [id]);
  return row;
}

export async function refundRows(h: StripeHarness, paymentId: string): Promise<{ state: string; amount: number; source: string; external_id: string | null }[]> {
  return h.db.dataSource.query('SELECT state, amount::int AS amount, source, external_id FROM order_refund WHERE payment_id = $1 ORDER BY local_id', [paymentId]);
}

export async function orderStatus(h: StripeHarness, orderId: string): Promise<string> {
  const [row] = await h.db.dataSource.query('SELECT status FROM kassa_order WHERE id = $1', [orderId]);
  return row.status;
}

/**
 * Runs one enqueued job as the worker would, if it is one of the event jobs: its events' outcomes
 * in order ("handed over" for a batch's event that failed and went on in a process-event job of its own).
 */
export async function runEventJob(rt: StripeRuntime, job: { job: string; payload: Record<string, unknown> }): Promise<string[]> {
  if (job.job === 'process-event') return [await processInboxEvent(rt, String(job.payload.inboxId))];
  if (job.job === 'process-events') return (await processEventBatch(rt, job.payload.inboxIds as string[])).map((o) => o ?? 'handed over');
  return [];
}
