import { definePlugin, loadPlugins, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core/host';
import { createTestApp, type TestApp } from '../infra/test-app';

/*
 * Provider webhooks are mounted outside the site's scope (app.ts): a provider's server calls them,
 * so they get the raw bytes and no cookie, session, CSRF or security-header/CSP-nonce hooks.
 */
const seen: PluginHttpRequest[] = [];
const echo = async (req: PluginHttpRequest): Promise<PluginHttpResponse> => {
  seen.push(req);
  return { status: 200, body: { raw: req.rawBody.toString('utf8') } };
};
const probe = definePlugin({
  name: 'probe', version: '0.0.0', coreRange: '*',
  routes: [
    { method: 'POST', path: '/webhook', kind: 'webhook', handler: echo as never },
    { method: 'POST', path: '/shop-action', kind: 'shop', handler: echo as never },
  ],
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { pluginRoutes: loadPlugins([probe]).routes });
});
afterAll(async () => t.close());

const sessionRows = async (): Promise<number> => Number((await t.db.dataSource.query('SELECT count(*)::int AS n FROM http_session'))[0].n);

it('a webhook POST sets no cookie, writes no session row and gets no CSP nonce; its raw body arrives as sent', async () => {
  const before = await sessionRows();
  const payload = '{"id": "evt_1",\n  "type": "x"}';
  const res = await t.app.inject({ method: 'POST', url: '/plugins/probe/webhook', headers: { 'content-type': 'application/json' }, payload });
  expect(res.statusCode).toBe(200);
  expect(res.json().raw).toBe(payload);
  expect(res.headers['set-cookie']).toBeUndefined();
  expect(res.headers['content-security-policy']).toBeUndefined();
  expect(await sessionRows()).toBe(before);
});

it('a form-encoded webhook POST needs no CSRF token (a shop form post to the same plugin does)', async () => {
  const hook = await t.app.inject({ method: 'POST', url: '/plugins/probe/webhook', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
  expect(hook.statusCode).toBe(200);
  const shop = await t.app.inject({ method: 'POST', url: '/plugins/probe/shop-action', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, payload: 'a=1' });
  expect(shop.statusCode).toBe(403);
});

it('the session hook never runs for a webhook: a bad session cookie is left alone (a site page clears it)', async () => {
  const cookie = 'kassa_session=forged.value';
  const hook = await t.app.inject({ method: 'POST', url: '/plugins/probe/webhook', headers: { 'content-type': 'application/json', cookie }, payload: '{}' });
  expect(hook.statusCode).toBe(200);
  expect(hook.headers['set-cookie']).toBeUndefined();
  // The control: the same cookie on a site page goes through the session, which replaces it.
  const page = await t.app.inject({ method: 'GET', url: '/control/login', headers: { cookie } });
  expect(String(page.headers['set-cookie'])).toContain('kassa_session=');
  expect(page.headers['content-security-policy']).toMatch(/nonce-/);
});
