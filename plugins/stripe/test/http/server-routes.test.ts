import { randomBytes } from 'node:crypto';
import {
  Event, SettingsStore, Team, User, createKassaCore, createProviderContextFactory, eventSettings, globalSettings, loadPlugins, organizerSettings, type OrderPayment,
} from '@kassa/core/host';
import { buildApp, hashPassword, shopMigrations, type AppDeps } from '@kassa/server';
import { startEmulator, type RunningEmulator } from '@kassa/stripe-emulator';
import { TestClock, createShop, createTestDatabase, snapshotRows, type ShopFixture, type TestDatabase } from '@kassa/testing';
import Stripe from 'stripe';
import { STRIPE_NAMESPACE, createStripeClient, createStripePlugin, processInboxEvent, registerAccount, storeEndpointSecret } from '../../src';
import { stripeRuntime } from '../support/stripe-harness';

// HTTP tests through the real server's plugin mounting (raw body for webhooks, sessions, CSRF, views).
describe('Stripe plugin routes through the server', () => {
  const SECRET = 'whsec_http0123456789';
  const baseUrl = 'http://127.0.0.1:3000';
  let emulator: RunningEmulator;
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let shop: ShopFixture;
  let deps: AppDeps;
  let stripe: Stripe;
  let account: string;
  const jobs: { job: string; payload: Record<string, unknown>; jobId?: string }[] = [];

  beforeAll(async () => {
    emulator = await startEmulator();
    const loaded = loadPlugins([createStripePlugin()]);
    db = await createTestDatabase({ entities: [...loaded.entities], migrations: [...loaded.migrations, ...shopMigrations], poolSize: 5 });
    const clock = new TestClock(new Date());
    const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
    const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
    const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
    deps = {
      dataSource: db.dataSource, clock, core, providers: loaded.providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
      config: { baseUrl, sessionSecret: randomBytes(32).toString('hex'), passwordLogN: 10, ...(process.env.KASSA_TEST_LOG === '1' ? { logger: { level: 'info' } } : {}) },
      pluginViews: Object.fromEntries(loaded.views.map((v) => [v.plugin, v.dir])),
      pluginRoutes: loaded.routes,
      enqueuePluginJob: async (_plugin, job, payload, o) => { jobs.push({ job, payload, ...(o?.jobId ? { jobId: o.jobId } : {}) }); },
    };
    // Where Stripe is: the instance's (operator's) decision, read at boot for the CSP; the keys: the organizer's.
    await settings.set(globalSettings, STRIPE_NAMESPACE, { apiBase: emulator.url, stripeJsUrl: emulator.stripeJsUrl });
    app = await buildApp(deps);
    shop = await createShop(db.dataSource, { price: 4200 });
    const secretKey = 'sk_test_httpRoutes';
    await settings.set(organizerSettings(shop.organizer.id), STRIPE_NAMESPACE, {
      _enabled: true, secretKey, publishableKey: emulator.keysFor(secretKey).publishableKey, maxNetworkRetries: 0,
    });
    stripe = createStripeClient({ secretKey, apiBase: emulator.url, maxNetworkRetries: 0 });
    const rt = stripeRuntime({ core, dataSource: db.dataSource, settings, clock, baseUrl });
    account = (await registerAccount(rt, organizerSettings(shop.organizer.id))).account.accountId;
    await storeEndpointSecret(rt, { endpointId: 'we_httpRoutes', accountId: account, target: organizerSettings(shop.organizer.id), secret: SECRET });
  });
  afterAll(async () => {
    await app?.close();
    await db?.destroy();
    await emulator?.close();
  });

  const placeAndExecute = async () => {
    const placed = await deps.core.orders.placeOrder({ eventId: shop.event.id, email: 'b@example.org', positions: [{ productId: shop.product.id }], provider: 'stripe' });
    const { outcome } = await deps.core.payments.executePayment((placed.payment as OrderPayment).id, {});
    const payment = (await deps.core.payments.loadPayment((placed.payment as OrderPayment).id)).payment;
    return { order: placed.order, payment, payUrl: (outcome as { redirectUrl: string }).redirectUrl.replace(baseUrl, '') };
  };

  /** A new admin of the shop's organizer, signed in: the session cookie. */
  async function signIn(email: string): Promise<string> {
    const ds = db.dataSource;
    const user = await ds.getRepository(User).save({ email, passwordHash: await hashPassword('correct horse battery', { logN: 10 }), name: 'Org', isActive: true });
    const team = await ds.getRepository(Team).save({ organizerId: shop.organizer.id, name: 'Admins', isAdmin: true });
    await ds.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [team.id, user.id]);
    const cookieOf = (res: { cookies: { name: string; value: string }[] }, prev = '') => {
      const jar = new Map(prev.split('; ').filter(Boolean).map((c) => [c.split('=')[0] as string, c] as const));
      for (const c of res.cookies) jar.set(c.name, `${c.name}=${c.value}`);
      return [...jar.values()].join('; ');
    };
    const loginPage = await app.inject({ method: 'GET', url: '/control/login' });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(loginPage.body)?.[1] as string;
    const loggedIn = await app.inject({
      method: 'POST', url: '/control/login', headers: { cookie: cookieOf(loginPage), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email, password: 'correct horse battery', _csrf: csrf }).toString(),
    });
    expect(loggedIn.statusCode).toBe(303);
    return cookieOf(loggedIn, cookieOf(loginPage));
  }

  it('accepts a signed webhook on the exact bytes (pretty-printed JSON kept as sent), refuses a forged one with 400', async () => {
    const body = JSON.stringify({ id: 'evt_http_1', object: 'event', type: 'charge.updated', created: 1, data: { object: { id: 'ch_x', object: 'charge', payment_intent: null } } }, null, 2);
    const header = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
    const ok = await app.inject({ method: 'POST', url: `/plugins/stripe/webhook/${account}`, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header }, payload: body });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ received: true });
    expect(jobs.at(-1)).toMatchObject({ job: 'process-event', jobId: `stripe:${account}:evt_http_1` });
    const forged = await app.inject({ method: 'POST', url: `/plugins/stripe/webhook/${account}`, headers: { 'content-type': 'application/json', 'stripe-signature': header }, payload: body.replace('charge.updated', 'charge.refunded') });
    expect(forged.statusCode).toBe(400);
    expect(forged.json()).toMatchObject({ error: { code: 'STRIPE_WEBHOOK_REFUSED' } });
    const rows = await db.dataSource.query(`SELECT type FROM stripe_webhook_inbox`);
    expect(rows).toEqual([{ type: 'charge.updated' }]);
  });

  it('hands out the client secret to the pay page (JSON, no-store) and decides on return from the re-fetched intent', async () => {
    const { order, payment, payUrl } = await placeAndExecute();
    const intentUrl = payUrl.replace('/pay/', '/intent/');
    const returnUrl = payUrl.replace('/pay/', '/return/');
    // A JSON fetch from our own page: no CSRF token needed (a cross-site page cannot send JSON without a preflight).
    const secret = await app.inject({ method: 'POST', url: intentUrl, headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(secret.statusCode).toBe(200);
    expect(secret.headers['cache-control']).toBe('no-store');
    const intentId = String(payment.info.intentId);
    expect(secret.json().clientSecret).toMatch(new RegExp(`^${intentId}_secret_`));
    await stripe.paymentIntents.confirm(intentId, { payment_method: 'pm_card_visa', return_url: `${baseUrl}${returnUrl}` });
    const back = await app.inject({ method: 'GET', url: `${returnUrl}?payment_intent=${intentId}&redirect_status=failed` });
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe(`${baseUrl}/${shop.organizer.slug}/${shop.event.slug}/order/${order.code}/${order.secret}/`);
    expect((await deps.core.payments.loadPayment(payment.id)).payment.state).toBe('confirmed');
  });

  it('renders the pay page with the plugin\'s own partial inside the server layout (Stripe.js allowed by the CSP host list, never by the nonce)', async () => {
    const { payUrl } = await placeAndExecute();
    const res = await app.inject({ method: 'GET', url: payUrl, headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    const scriptSrc = /script-src ([^;]*)/.exec(String(res.headers['content-security-policy']))?.[1]?.split(' ') ?? [];
    const nonce = scriptSrc.find((s) => s.startsWith("'nonce-"))?.slice(7, -1);
    expect(nonce).toBeTruthy();
    // The external script carries no nonce, and its origin is in the host list; the inline one has the nonce.
    expect(res.body).toContain(`<script src="${emulator.stripeJsUrl}"></script>`);
    expect(scriptSrc).toContain(new URL(emulator.stripeJsUrl).origin);
    expect(res.body).toMatch(new RegExp(`<script nonce="${nonce!.replace(/[+/=]/g, '\\$&')}">`));
  });

  it('a pay link with a wrong token is a 404 naming nothing secret', async () => {
    const { payment } = await placeAndExecute();
    const res = await app.inject({ method: 'GET', url: `/plugins/stripe/pay/${payment.id}/${'A'.repeat(32)}`, headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('STRIPE_PAYMENT_LINK_INVALID');
  });

  it('control routes need a signed-in organizer; with one, a manual capture works over HTTP', async () => {
    await deps.settings.set(eventSettings(shop.event), STRIPE_NAMESPACE, { captureMethod: 'manual' });
    const { order, payment, payUrl } = await placeAndExecute();
    await deps.settings.set(eventSettings(shop.event), STRIPE_NAMESPACE, { captureMethod: null });
    const intentId = String(payment.info.intentId);
    await stripe.paymentIntents.confirm(intentId, { payment_method: 'pm_card_visa', return_url: `${baseUrl}/x` });
    expect((await app.inject({ method: 'GET', url: payUrl.replace('/pay/', '/return/') })).statusCode).toBe(303);
    expect((await deps.core.payments.loadPayment(payment.id)).payment.state).toBe('pending');
    const url = `/plugins/stripe/control/payments/${payment.id}/capture`;
    const anonymous = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(anonymous.statusCode).toBe(401);

    const cookie = await signIn('org@example.org');
    // A form post without the CSRF token is refused; a JSON call from our own pages needs none.
    const noCsrf = await app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'amount=4200' });
    expect(noCsrf.statusCode).toBe(403);
    // Capture moves money: without the order page's one-time key it is refused before the plugin runs.
    const noKey = await app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/json' }, payload: JSON.stringify({ amount: 4200 }) });
    expect(noKey.statusCode).toBe(409);
    expect(noKey.json()).toMatchObject({ error: { code: 'ACTION_KEY_INVALID' } });
    expect((await deps.core.payments.loadPayment(payment.id)).payment.state).toBe('pending');
    // The order page hands the key to the plugin's partial; its capture form carries it.
    const orderPage = await app.inject({ method: 'GET', url: `/control/orders/${order.id}`, headers: { cookie, accept: 'text/html' } });
    expect(orderPage.statusCode).toBe(200);
    const captureForm = /<form method="post" action="[^"]*\/capture"[\s\S]*?<\/form>/.exec(orderPage.body)?.[0] ?? '';
    const key = /name="_actionKey" value="([0-9a-f-]{36})"/.exec(captureForm)?.[1] as string;
    expect(key).toBeTruthy();
    const capture = () => app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/json', 'x-kassa-action-key': key }, payload: JSON.stringify({ amount: 4200 }) });
    const captured = await capture();
    expect(captured.statusCode).toBe(200);
    expect(captured.json()).toMatchObject({ status: 'succeeded' });
    expect((await deps.core.payments.loadPayment(payment.id)).payment.state).toBe('confirmed');
    // The same request again (a double click, a replay) is refused; Stripe is not called again.
    const capturesBefore = (await stripe.paymentIntents.retrieve(intentId)).amount_received;
    const replay = await capture();
    expect(replay.statusCode).toBe(409);
    expect(replay.json()).toMatchObject({ error: { code: 'ACTION_KEY_INVALID' } });
    expect((await stripe.paymentIntents.retrieve(intentId)).amount_received).toBe(capturesBefore);
  });

  it('release moves money too: without the order page\'s one-time key it is refused, and a replayed release is refused before Stripe is asked', async () => {
    await deps.settings.set(eventSettings(shop.event), STRIPE_NAMESPACE, { captureMethod: 'manual' });
    const { order, payment, payUrl } = await placeAndExecute();
    await deps.settings.set(eventSettings(shop.event), STRIPE_NAMESPACE, { captureMethod: null });
    const intentId = String(payment.info.intentId);
    await stripe.paymentIntents.confirm(intentId, { payment_method: 'pm_card_visa', return_url: `${baseUrl}/x` });
    expect((await app.inject({ method: 'GET', url: payUrl.replace('/pay/', '/return/') })).statusCode).toBe(303);
    expect((await stripe.paymentIntents.retrieve(intentId)).status).toBe('requires_capture');
    const cookie = await signIn('release@example.org');
    const url = `/plugins/stripe/control/payments/${payment.id}/release`;
    const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/json', ...headers }, payload: '{}' });

    const noKey = await post({});
    expect(noKey.statusCode).toBe(409);
    expect(noKey.json()).toMatchObject({ error: { code: 'ACTION_KEY_INVALID' } });
    expect((await stripe.paymentIntents.retrieve(intentId)).status).toBe('requires_capture');

    const orderPage = await app.inject({ method: 'GET', url: `/control/orders/${order.id}`, headers: { cookie, accept: 'text/html' } });
    const releaseForm = /<form method="post" action="[^"]*\/release"[\s\S]*?<\/form>/.exec(orderPage.body)?.[0] ?? '';
    const key = /name="_actionKey" value="([0-9a-f-]{36})"/.exec(releaseForm)?.[1] as string;
    expect(key).toBeTruthy();
    const released = await post({ 'x-kassa-action-key': key });
    expect(released.statusCode).toBe(200);
    expect(released.json()).toMatchObject({ status: 'canceled' });
    expect((await deps.core.payments.loadPayment(payment.id)).payment.state).toBe('failed'); // "released" (docs/stripe.md)
    const before = await snapshotRows(db.dataSource);
    const replay = await post({ 'x-kassa-action-key': key });
    expect(replay.statusCode).toBe(409);
    expect(replay.json()).toMatchObject({ error: { code: 'ACTION_KEY_INVALID' } });
    expect(await snapshotRows(db.dataSource)).toEqual(before);
  });

  it('after the last date of payments the pay, intent and return routes refuse over HTTP: no client secret, back to the order page', async () => {
    const { order, payment, payUrl } = await placeAndExecute(); // the intent was created in time
    const orderUrl = `${baseUrl}/${shop.organizer.slug}/${shop.event.slug}/order/${order.code}/${order.secret}/`;
    await db.dataSource.getRepository(Event).update({ id: shop.event.id }, { paymentTermLast: new Date(deps.clock.now().getTime() - 60_000) });
    try {
      const intent = await app.inject({ method: 'POST', url: payUrl.replace('/pay/', '/intent/'), headers: { 'content-type': 'application/json' }, payload: '{}' });
      expect(intent.statusCode).toBe(409);
      expect(intent.json()).toMatchObject({ error: { code: 'ORDER_NOT_PAYABLE', message: expect.stringMatching(/last date of payments/) } });
      expect(intent.body).not.toContain('_secret_');
      const page = await app.inject({ method: 'GET', url: payUrl, headers: { accept: 'text/html' } });
      expect([page.statusCode, page.headers.location]).toEqual([303, orderUrl]);
      const back = await app.inject({ method: 'GET', url: payUrl.replace('/pay/', '/return/') });
      expect([back.statusCode, back.headers.location]).toEqual([303, orderUrl]);
      expect((await deps.core.payments.loadPayment(payment.id)).payment.state).not.toBe('confirmed');
    } finally {
      await db.dataSource.getRepository(Event).update({ id: shop.event.id }, { paymentTermLast: null });
    }
  });

  it('the process-event job applies an event delivered over HTTP', async () => {
    const { payment, payUrl } = await placeAndExecute();
    const intentId = String(payment.info.intentId);
    // The buyer's pay page fetched the client secret (registers the intent), then paid and closed the tab.
    const secret = await app.inject({ method: 'POST', url: payUrl.replace('/pay/', '/intent/'), headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(secret.statusCode).toBe(200);
    await stripe.paymentIntents.confirm(intentId, { payment_method: 'pm_card_visa', return_url: `${baseUrl}/x` });
    const [evt] = (await stripe.events.list({ type: 'payment_intent.succeeded', limit: 1 })).data;
    const body = JSON.stringify(evt, null, 2);
    const res = await app.inject({ method: 'POST', url: `/plugins/stripe/webhook/${account}`, headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }) }, payload: body });
    expect(res.statusCode).toBe(200);
    const job = jobs.at(-1) as unknown as { payload: { inboxId: string } };
    await processInboxEvent(stripeRuntime({ core: deps.core, dataSource: db.dataSource, settings: deps.settings, clock: deps.clock, baseUrl }), job.payload.inboxId);
    expect((await deps.core.payments.loadPayment(payment.id)).payment.state).toBe('confirmed');
  });
});
