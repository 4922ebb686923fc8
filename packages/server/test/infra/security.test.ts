import { BasePaymentProvider, definePlugin, type JsonSchema, type PaymentOutcome, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntime, loadPlugins } from '@kassa/core/host';
import { cookieOf, createOrganizerFixture, createTestApp, csrfOf, getPage, login, type TestApp } from './test-app';

/** A provider whose checkout loads a script and a frame from its own origin. */
class FramedPayProvider extends BasePaymentProvider {
  readonly identifier = 'framedpay';
  readonly verboseName = 'FramedPay';
  override readonly settingsSchema: JsonSchema = { type: 'object', properties: {}, additionalProperties: false };
  override contentSecurityPolicy() {
    return { scriptSrc: ['https://js.framedpay.example'], frameSrc: ['https://frames.framedpay.example'], connectSrc: ['https://api.framedpay.example'] };
  }
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'pending' });
  }
}

const seen: PluginHttpRequest[] = [];
const echo = async (req: PluginHttpRequest, rt: PluginRuntime): Promise<PluginHttpResponse> => {
  seen.push(req);
  return { status: 200, body: { organizerId: req.organizerId ?? null, raw: req.rawBody.toString('utf8'), body: req.body ?? null, base: rt.baseUrl } };
};
const testPlugin = definePlugin({
  name: 'probe', version: '0.0.0', coreRange: '*',
  routes: [
    { method: 'POST', path: '/webhook', kind: 'webhook', handler: echo as never },
    { method: 'POST', path: '/shop-action', kind: 'shop', handler: echo as never },
    { method: 'POST', path: '/control-action', kind: 'control', handler: echo as never },
    { method: 'GET', path: '/api-read', kind: 'api', handler: echo as never },
    { method: 'GET', path: '/page', kind: 'shop', handler: (async () => ({ view: { partial: 'kassa/manual-checkout', data: { publicName: 'Probe page' } }, title: 'Probe' })) as never },
  ],
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { pluginRoutes: loadPlugins([testPlugin]).routes }, [new FramedPayProvider()]);
});
afterAll(async () => t.close());

describe('security headers', () => {
  it('sends a CSP of our own origin plus what the providers declare, and no framing', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/control/login' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self' https:\/\/js\.framedpay\.example 'nonce-[\w+/=]+'/);
    expect(csp).toMatch(/frame-src 'self' https:\/\/frames\.framedpay\.example/);
    expect(csp).toMatch(/connect-src 'self' https:\/\/api\.framedpay\.example/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('marks the session cookie Secure when the base URL is https', async () => {
    const https = await createTestApp({ baseUrl: 'https://tickets.example', trustProxy: '127.0.0.1' });
    try {
      // Behind the TLS-terminating proxy that an https BASE_URL implies (a trusted proxy's X-Forwarded-Proto).
      const res = await https.app.inject({ method: 'GET', url: '/control/login', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-proto': 'https' } });
      const cookie = res.cookies.find((c) => c.name === 'kassa_session')!;
      expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax' });
      expect(res.headers['strict-transport-security']).toBeDefined();
    } finally {
      await https.close();
    }
  });
});

describe('https behind a proxy', () => {
  it('logs in over https through a configured proxy, and ignores X-Forwarded-Proto from any other peer', async () => {
    const https = await createTestApp({ baseUrl: 'https://tickets.example', trustProxy: '10.0.0.1' });
    try {
      const f = await createOrganizerFixture(https);
      const viaProxy = { remoteAddress: '10.0.0.1', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1' } };
      const page = await https.app.inject({ method: 'GET', url: '/control/login', ...viaProxy });
      const res = await https.app.inject({
        method: 'POST', url: '/control/login', remoteAddress: viaProxy.remoteAddress,
        headers: { ...viaProxy.headers, cookie: cookieOf(page), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email: f.email, password: f.password, _csrf: csrfOf(page.body) }).toString(),
      });
      expect(res.statusCode).toBe(303);
      expect(res.cookies.find((c) => c.name === 'kassa_session')).toMatchObject({ secure: true });
      // The same header from a peer that is not the proxy proves nothing: no Secure cookie goes over plain http.
      const direct = await https.app.inject({ method: 'GET', url: '/control/login', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-proto': 'https' } });
      expect(direct.cookies.find((c) => c.name === 'kassa_session')).toBeUndefined();
    } finally {
      await https.close();
    }
  });
});

describe('plugin routes', () => {
  it('hands a webhook the exact bytes, without session or CSRF', async () => {
    const payload = '{"id":"evt_1",  "type":"x"}';
    const res = await t.app.inject({ method: 'POST', url: '/plugins/probe/webhook', headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(200);
    expect(res.json().raw).toBe(payload);
  });

  it('requires the CSRF token for a form post to a shop route, but not for a same-origin JSON call', async () => {
    const form = await t.app.inject({ method: 'POST', url: '/plugins/probe/shop-action', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
    expect(form.statusCode).toBe(403);
    const json = await t.app.inject({ method: 'POST', url: '/plugins/probe/shop-action', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' });
    expect(json.statusCode).toBe(200);
    expect(json.json().body).toEqual({ a: 1 });
  });

  it("checks a shop route's form post against the buyer's cookie (the checkout's CSRF token), with no server session created", async () => {
    const f = await createOrganizerFixture(t);
    const sessions = async () => Number((await t.db.dataSource.query('SELECT count(*)::int AS n FROM http_session'))[0].n);
    const before = await sessions();
    // A buyer in the middle of a checkout: the cart, then the contact page's form.
    const base = `/${f.organizer.slug}/${f.event.slug}/`;
    const cart = await t.app.inject({ method: 'POST', url: `${base}cart`, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: `qty_${f.product.id}=1` });
    const contact = await t.app.inject({ method: 'GET', url: `${base}checkout/contact`, headers: { cookie: cookieOf(cart), accept: 'text/html' } });
    const cookie = cookieOf(contact, cookieOf(cart));
    const post = (token: string, withCookie = cookie) => t.app.inject({
      method: 'POST', url: '/plugins/probe/shop-action', headers: { cookie: withCookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${encodeURIComponent(token)}&a=1`,
    });
    const ok = await post(csrfOf(contact.body));
    expect([ok.statusCode, ok.json().body]).toEqual([200, { _csrf: csrfOf(contact.body), a: '1' }]);
    // A forged token, or the right token without the buyer's cookie, is refused.
    expect((await post('forged')).statusCode).toBe(403);
    expect((await post(csrfOf(contact.body), '')).statusCode).toBe(403);
    // A shop page of the plugin neither creates nor reads a server session.
    const page = await t.app.inject({ method: 'GET', url: '/plugins/probe/page', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.cookies.map((c) => c.name)).not.toContain('kassa_session');
    expect(await sessions()).toBe(before);
  });

  it('passes the logged-in organizer to a control route, refuses anonymous calls, and scopes api routes by token', async () => {
    const f = await createOrganizerFixture(t);
    expect((await t.app.inject({ method: 'POST', url: '/plugins/probe/control-action', headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(401);
    const b = await login(t, f.email, f.password);
    const res = await t.app.inject({ method: 'POST', url: '/plugins/probe/control-action', headers: { cookie: b.cookie, 'content-type': 'application/json' }, payload: '{}' });
    expect(res.json().organizerId).toBe(f.organizer.id);
    expect((await t.app.inject({ method: 'GET', url: '/plugins/probe/api-read' })).statusCode).toBe(401);
    const api = await t.app.inject({ method: 'GET', url: '/plugins/probe/api-read', headers: { authorization: `Bearer ${f.token}` } });
    expect(api.json().organizerId).toBe(f.organizer.id);
  });

  it('hands a CSRF-checked form post to a control route with its fields and whether the user is an admin', async () => {
    const f = await createOrganizerFixture(t);
    const b = await login(t, f.email, f.password);
    const res = await t.app.inject({
      method: 'POST', url: '/plugins/probe/control-action',
      headers: { cookie: b.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ amount: '12.50', _csrf: b.csrf }).toString(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().body).toEqual({ amount: '12.50', _csrf: b.csrf });
    expect(seen.at(-1)?.isAdmin).toBe(true);
  });

  it("refuses a NUL in a plugin route's body before the plugin sees it", async () => {
    const before = seen.length;
    const res = await t.app.inject({ method: 'POST', url: '/plugins/probe/shop-action', headers: { 'content-type': 'application/json' }, payload: '{"note":"a\\u0000b"}' });
    expect([res.statusCode, res.json().error.params]).toEqual([400, expect.objectContaining({ field: 'note', in: 'body' })]);
    expect(seen.length).toBe(before);
  });

  it("counts a plugin's API route against the same per-token budget as /api/v1", async () => {
    const limited = await createTestApp({ rateLimits: { api: { max: 2, timeWindow: '1 minute' } } }, { pluginRoutes: loadPlugins([testPlugin]).routes });
    try {
      const f = await createOrganizerFixture(limited);
      const call = (url: string) => limited.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${f.token}` } });
      expect((await call('/api/v1/orders')).statusCode).toBe(200);
      expect((await call('/plugins/probe/api-read')).statusCode).toBe(200);
      const third = await call('/plugins/probe/api-read');
      expect([third.statusCode, third.json().error.code]).toEqual([429, 'RATE_LIMITED']);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it("renders a view answer with the provider's partial inside the site layout", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/plugins/probe/page' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Probe page');
    expect(res.body).toContain('/static/kassa.css');
  });
});

describe('control panel pages', () => {
  it('render with the stylesheet and without an error', async () => {
    const f = await createOrganizerFixture(t);
    const b = await login(t, f.email, f.password);
    for (const url of ['/control', '/control/events', `/control/events/${f.event.id}`, '/control/orders', '/control/settings/payment', '/control/jobs', '/control/emails', '/control/api-tokens']) {
      const res = await getPage(t, b, url);
      expect([url, res.statusCode]).toEqual([url, 200]);
      expect(res.body).toContain('/static/kassa.css');
    }
  });
});
