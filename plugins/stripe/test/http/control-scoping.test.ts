import { randomBytes } from 'node:crypto';
import {
  SettingsStore, Team, User, createKassaCore, createProviderContextFactory, globalSettings, loadPlugins, organizerSettings, type OrderPayment,
} from '@kassa/core/host';
import { buildApp, hashPassword, shopMigrations, type AppDeps } from '@kassa/server';
import { startEmulator, type RunningEmulator } from '@kassa/stripe-emulator';
import { TestClock, createShop, createTestDatabase, type ShopFixture, type TestDatabase } from '@kassa/testing';
import { STRIPE_NAMESPACE, createStripeClient, createStripePlugin } from '../../src';
import { handleCreateWebhookEndpoint } from '../../src/routes/control-routes';
import { stripeRuntime } from '../support/stripe-harness';

/*
 * Organizer scoping of the plugin's control routes, through the real server (session, CSRF):
 * a signed-in organizer acts on its own organizer, its events and its payments only. The
 * instance-wide level (global Stripe keys, the host's webhook endpoint) is out of its reach;
 * another organizer's event or payment is "not found", never "forbidden"; nothing is written.
 */
describe('Stripe control routes: organizer scoping', () => {
  const baseUrl = 'http://127.0.0.1:3000';
  const GLOBAL_KEY = 'sk_test_scopingGlobal';
  const OWN_KEY = 'sk_test_scopingOwn';
  const OTHER_KEY = 'sk_test_scopingOther';
  let emulator: RunningEmulator;
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let deps: AppDeps;
  let own: ShopFixture;
  let other: ShopFixture;
  let cookie = '';
  let csrf = '';

  const keysFor = (secretKey: string) => ({
    _enabled: true, secretKey, publishableKey: emulator.keysFor(secretKey).publishableKey, maxNetworkRetries: 0,
  });
  const endpointsOf = async (secretKey: string) => (await createStripeClient({ secretKey, apiBase: emulator.url, maxNetworkRetries: 0 }).webhookEndpoints.list()).data;
  /** Endpoint rows with a secret, per level: "global", "organizer:<id>" or "event:<id>". */
  const secretsAt = async (level: string) => {
    const rows: { level: string; n: number }[] = await db.dataSource.query(
      `SELECT scope || coalesce(':' || coalesce(event_id, organizer_id)::text, '') AS level, count(*)::int AS n FROM stripe_webhook_endpoint WHERE secret IS NOT NULL GROUP BY 1`);
    return rows.find((r) => r.level === level)?.n ?? 0;
  };
  const accountRows = async () => db.dataSource.query('SELECT scope, organizer_id FROM stripe_account ORDER BY created_at');
  const postJson = (url: string, body: unknown) =>
    app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/json', accept: 'application/json' }, payload: JSON.stringify(body) });
  const postForm = (url: string, fields: Record<string, string>) =>
    app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, payload: new URLSearchParams(fields).toString() });

  beforeAll(async () => {
    emulator = await startEmulator();
    const loaded = loadPlugins([createStripePlugin()]);
    db = await createTestDatabase({ entities: [...loaded.entities], migrations: [...loaded.migrations, ...shopMigrations], poolSize: 4 });
    const clock = new TestClock(new Date());
    const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
    const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
    const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
    deps = {
      dataSource: db.dataSource, clock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
      config: { baseUrl, sessionSecret: randomBytes(32).toString('hex'), passwordLogN: 10 },
      pluginViews: Object.fromEntries(loaded.views.map((v) => [v.plugin, v.dir])),
      pluginRoutes: loaded.routes,
      enqueuePluginJob: async () => undefined,
    };
    app = await buildApp(deps);
    own = await createShop(db.dataSource, { price: 4200 });
    other = await createShop(db.dataSource, { price: 1500 });
    // The host's keys globally; each organizer with keys of its own.
    await settings.set(globalSettings, STRIPE_NAMESPACE, { ...keysFor(GLOBAL_KEY), apiBase: emulator.url, stripeJsUrl: emulator.stripeJsUrl });
    await settings.set(organizerSettings(own.organizer.id), STRIPE_NAMESPACE, keysFor(OWN_KEY));
    await settings.set(organizerSettings(other.organizer.id), STRIPE_NAMESPACE, { ...keysFor(OTHER_KEY), captureMethod: 'manual' });

    // An admin of the first organizer signs in.
    const ds = db.dataSource;
    const user = await ds.getRepository(User).save({ email: 'own@example.org', passwordHash: await hashPassword('correct horse battery', { logN: 10 }), name: 'Own', isActive: true });
    const team = await ds.getRepository(Team).save({ organizerId: own.organizer.id, name: 'Admins', isAdmin: true });
    await ds.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [team.id, user.id]);
    const jar = new Map<string, string>();
    const keep = (res: { cookies: { name: string; value: string }[] }) => { for (const c of res.cookies) jar.set(c.name, `${c.name}=${c.value}`); cookie = [...jar.values()].join('; '); };
    const loginPage = await app.inject({ method: 'GET', url: '/control/login' });
    keep(loginPage);
    const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(loginPage.body)?.[1] as string;
    const loggedIn = await app.inject({
      method: 'POST', url: '/control/login', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: 'own@example.org', password: 'correct horse battery', _csrf: loginCsrf }).toString(),
    });
    expect(loggedIn.statusCode).toBe(303);
    keep(loggedIn);
    // The settings page carries the form (and its CSRF token) that posts to the plugin's action.
    const settingsPage = await app.inject({ method: 'GET', url: '/control/settings/payment/stripe', headers: { cookie } });
    expect(settingsPage.statusCode).toBe(200);
    keep(settingsPage);
    csrf = /id="webhook-endpoint-form">\s*<input type="hidden" name="_csrf" value="([^"]+)"/.exec(settingsPage.body)?.[1] as string;
    expect(csrf).toBeTruthy();
  });
  afterAll(async () => {
    await app?.close();
    await db?.destroy();
    await emulator?.close();
  });

  const ENDPOINT = '/plugins/stripe/control/webhook-endpoint';

  it('refuses scope "global" from a signed-in organizer, creating no endpoint and writing no global secret', async () => {
    const res = await postForm(ENDPOINT, { scope: 'global', _csrf: csrf });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'STRIPE_SCOPE_NOT_ALLOWED', message: expect.stringMatching(/global/) } });
    expect(await endpointsOf(GLOBAL_KEY)).toEqual([]);
    expect(await secretsAt('global')).toBe(0);
    expect(await accountRows()).toEqual([]);
  });

  it('an unknown scope names the field and writes nothing', async () => {
    const res = await postJson(ENDPOINT, { scope: 'instance' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/scope/) } });
    expect(await accountRows()).toEqual([]);
  });

  it("another organizer's event is not found (404, never 403): no endpoint at its account, its settings untouched", async () => {
    const res = await postJson(ENDPOINT, { eventId: other.event.id });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(await endpointsOf(OTHER_KEY)).toEqual([]);
    expect(await secretsAt(`organizer:${other.organizer.id}`)).toBe(0);
    expect(await accountRows()).toEqual([]);
  });

  it('a team member who is not an admin does not have the action (404): no endpoint, no secret written', async () => {
    await db.dataSource.query(`UPDATE team SET is_admin = false WHERE organizer_id = $1`, [own.organizer.id]);
    try {
      const res = await postForm(ENDPOINT, { _csrf: csrf });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
      expect(await endpointsOf(OWN_KEY)).toEqual([]);
      expect(await secretsAt(`organizer:${own.organizer.id}`)).toBe(0);
    } finally {
      await db.dataSource.query(`UPDATE team SET is_admin = true WHERE organizer_id = $1`, [own.organizer.id]);
    }
  });

  it('a form post without the CSRF token is refused before the plugin runs', async () => {
    const res = await postForm(ENDPOINT, {});
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'CSRF_INVALID' } });
    expect(await endpointsOf(OWN_KEY)).toEqual([]);
  });

  it('the organizer creates an endpoint for its own organizer and for its own event; the secret is stored there only', async () => {
    const res = await postForm(ENDPOINT, { _csrf: csrf });
    expect(res.statusCode).toBe(201);
    expect(await endpointsOf(OWN_KEY)).toHaveLength(1);
    expect(await secretsAt(`organizer:${own.organizer.id}`)).toBe(1);
    const forEvent = await postForm(ENDPOINT, { eventId: own.event.id, _csrf: csrf });
    expect(forEvent.statusCode).toBe(201);
    expect(await endpointsOf(OWN_KEY)).toHaveLength(2);
    expect(await secretsAt('global')).toBe(0);
    expect(await accountRows()).toEqual([{ scope: 'organizer', organizer_id: own.organizer.id }]);
  });

  it("capture and release of another organizer's payment are not found, and its authorization stays as it was", async () => {
    const placed = await deps.core.orders.placeOrder({ eventId: other.event.id, email: 'b@example.org', positions: [{ productId: other.product.id }], provider: 'stripe' });
    const paymentId = (placed.payment as OrderPayment).id;
    await deps.core.payments.executePayment(paymentId, {});
    const intentId = String((await deps.core.payments.loadPayment(paymentId)).payment.info.intentId);
    const otherStripe = createStripeClient({ secretKey: OTHER_KEY, apiBase: emulator.url, maxNetworkRetries: 0 });
    await otherStripe.paymentIntents.confirm(intentId, { payment_method: 'pm_card_visa', return_url: `${baseUrl}/x` });
    for (const action of ['capture', 'release']) {
      const res = await postJson(`/plugins/stripe/control/payments/${paymentId}/${action}`, {});
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    expect((await otherStripe.paymentIntents.retrieve(intentId)).status).toBe('requires_capture');
  });

  it("shop routes: a pay link's token opens only its own payment (404 with another payment's id), and a form post needs the CSRF token", async () => {
    const place = async () => {
      const placed = await deps.core.orders.placeOrder({ eventId: own.event.id, email: 'b@example.org', positions: [{ productId: own.product.id }], provider: 'stripe' });
      const { outcome } = await deps.core.payments.executePayment((placed.payment as OrderPayment).id, {});
      return { paymentId: (placed.payment as OrderPayment).id, payPath: (outcome as { redirectUrl: string }).redirectUrl.replace(baseUrl, '') };
    };
    const first = await place();
    const second = await place();
    const token = first.payPath.split('/').at(-1) as string;
    const before = (await deps.core.payments.loadPayment(second.paymentId)).payment.info;
    for (const [method, kind] of [['GET', 'pay'], ['POST', 'intent'], ['GET', 'return']] as const) {
      const res = await app.inject({ method, url: `/plugins/stripe/${kind}/${second.paymentId}/${token}`, headers: { accept: 'application/json', 'content-type': 'application/json' }, ...(method === 'POST' ? { payload: '{}' } : {}) });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'STRIPE_PAYMENT_LINK_INVALID' } });
    }
    expect((await deps.core.payments.loadPayment(second.paymentId)).payment.info).toEqual(before);
    const forged = await app.inject({ method: 'POST', url: first.payPath.replace('/pay/', '/intent/'), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, payload: 'x=1' });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).not.toContain('_secret_');
  });

  it('the host (no signed-in organizer: bootstrap calls the handler itself) creates the global endpoint', async () => {
    const res = await handleCreateWebhookEndpoint(
      { method: 'POST', params: {}, query: {}, headers: {}, rawBody: Buffer.alloc(0), body: { scope: 'global' } },
      stripeRuntime({ core: deps.core, dataSource: db.dataSource, settings: deps.settings, clock: deps.clock, baseUrl }),
    );
    expect(res).toMatchObject({ status: 201 });
    expect(await endpointsOf(GLOBAL_KEY)).toHaveLength(1);
    expect(await secretsAt('global')).toBe(1);
  });
});
