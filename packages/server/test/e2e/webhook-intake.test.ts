import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { definePlugin, KassaError, loadPlugins, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core/host';
import { createTestApp, type TestApp } from '../infra/test-app';

/*
 * On a listening server, provider webhooks are answered from node's 'request' event before fastify
 * routes them (infra/webhook-intake.ts); the fastify route answers inject() and whatever the intake
 * leaves alone. Both must give a provider the same answers, and the intake must never see a request
 * that is not a webhook route's.
 */
const seen: PluginHttpRequest[] = [];
const constant: PluginHttpResponse = Object.freeze({ status: 200, body: Object.freeze({ received: true }) });
// A frozen answer with headers of its own, a refusal status and a body that is not ASCII.
const frozenRefusal: PluginHttpResponse = Object.freeze({
  status: 409, headers: Object.freeze({ 'x-probe': 'frozen', 'Cache-Control': 'no-cache' }), body: Object.freeze({ error: 'déjà reçu', n: 1 }),
});
const routes = {
  echo: async (req: PluginHttpRequest): Promise<PluginHttpResponse> => {
    seen.push(req);
    return { status: 200, body: { raw: req.rawBody.toString('utf8'), params: req.params, clientIp: req.clientIp ?? null } };
  },
  refuse: async (): Promise<PluginHttpResponse> => {
    throw new KassaError('VALIDATION_FAILED', { field: 'type', detail: 'type is not a known event type' });
  },
  crash: async (): Promise<PluginHttpResponse> => {
    throw new Error('the plugin has a bug');
  },
  constant: async (): Promise<PluginHttpResponse> => constant,
  frozenRefusal: async (): Promise<PluginHttpResponse> => frozenRefusal,
  // Changes its own params after reading them: the next request to the same URL must not see it.
  mutate: async (req: PluginHttpRequest): Promise<PluginHttpResponse> => {
    const params = { ...req.params };
    (req.params as Record<string, string>).account = 'changed';
    return { status: 200, body: { params } };
  },
  text: async (): Promise<PluginHttpResponse> => ({ status: 202, headers: { 'x-probe': 'yes' }, body: 'queued' }),
  redirect: async (): Promise<PluginHttpResponse> => ({ redirect: '/elsewhere', status: 302 }),
  badHeader: async (): Promise<PluginHttpResponse> => ({ status: 200, headers: { 'x-probe': 'line\r\nset-cookie: injected=1' }, body: {} }),
  // Reads headers one by one first, then enumerates them (the order a handler may do either in).
  headers: async (req: PluginHttpRequest): Promise<PluginHttpResponse> => {
    const h = req.headers;
    const named = { signature: h['stripe-signature'], mixed: h['x-mixed-case'], dup: h['x-dup'], type: h['content-type'], cookie: h['set-cookie'], none: h['x-none'] ?? null };
    return { status: 200, body: { named, has: 'x-dup' in h, all: { ...h }, after: h['x-dup'] } };
  },
};
const probe = definePlugin({
  name: 'probe', version: '0.0.0', coreRange: '*',
  routes: [
    { method: 'POST', path: '/hook/:account/echo', kind: 'webhook', handler: routes.echo as never },
    { method: 'POST', path: '/hook/refuse', kind: 'webhook', handler: routes.refuse as never },
    { method: 'POST', path: '/hook/crash', kind: 'webhook', handler: routes.crash as never },
    { method: 'POST', path: '/hook/constant', kind: 'webhook', handler: routes.constant as never },
    { method: 'POST', path: '/hook/text', kind: 'webhook', handler: routes.text as never },
    { method: 'POST', path: '/hook/frozen-refusal', kind: 'webhook', handler: routes.frozenRefusal as never },
    { method: 'POST', path: '/hook/:account/mutate', kind: 'webhook', handler: routes.mutate as never },
    { method: 'POST', path: '/hook/redirect', kind: 'webhook', handler: routes.redirect as never },
    { method: 'POST', path: '/hook/bad-header', kind: 'webhook', handler: routes.badHeader as never },
    { method: 'POST', path: '/hook/headers', kind: 'webhook', handler: routes.headers as never },
    { method: 'POST', path: '/shop-action', kind: 'shop', handler: routes.echo as never },
  ],
});

let t: TestApp;
let port: number;
/** Every request fastify's pipeline saw (a root onRequest hook): the intake's never get here. */
const fastifySaw: string[] = [];
/** Whether anything had started reading a request's body when fastify got it (data listeners, a flowing stream). */
const bodyTouched = new Map<string, boolean>();

beforeAll(async () => {
  t = await createTestApp({}, { pluginRoutes: loadPlugins([probe]).routes });
  t.app.addHook('onRequest', async (req) => {
    fastifySaw.push(req.url);
    bodyTouched.set(req.url, req.raw.listenerCount('data') > 0 || req.raw.readableFlowing !== null);
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(async () => t.close());

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A real HTTP request over a socket; `chunks` are written one by one (chunked transfer encoding). */
function send(method: string, path: string, chunks: string[], headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const injected = async (path: string, payload: string): Promise<Answer> => {
  const res = await t.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json' }, payload });
  return { status: res.statusCode, headers: res.headers as Answer['headers'], body: res.body };
};

/** What a provider can tell apart: status, body and the headers that matter to it and to caches. */
const visible = (a: Answer) => ({
  status: a.status, body: a.body, type: a.headers['content-type'], cache: a.headers['cache-control'], location: a.headers.location, probe: a.headers['x-probe'],
});

it('answers a webhook before fastify routes it, the bytes as sent, and as the fastify route answers the same request', async () => {
  const payload = '{"id": "evt_1",\n  "type": "x"}';
  const before = fastifySaw.length;
  const direct = await send('POST', '/plugins/probe/hook/acct_1/echo', [payload]);
  expect(fastifySaw.length).toBe(before);
  expect(direct.status).toBe(200);
  expect(JSON.parse(direct.body)).toEqual({ raw: payload, params: { account: 'acct_1' }, clientIp: null });
  expect(direct.headers['cache-control']).toBe('private, no-store');
  expect(direct.headers['set-cookie']).toBeUndefined();
  expect(direct.headers['content-security-policy']).toBeUndefined();
  // The control: through inject() fastify's route runs, and a provider could not tell the two apart.
  expect(visible(await injected('/plugins/probe/hook/acct_1/echo', payload))).toEqual(visible(direct));
  expect(fastifySaw.length).toBe(before + 1);
});

it('gives the same answers as the fastify route for refusals, constants, text and redirects', async () => {
  for (const path of ['/plugins/probe/hook/refuse', '/plugins/probe/hook/constant', '/plugins/probe/hook/text', '/plugins/probe/hook/redirect']) {
    const direct = await send('POST', path, ['{}']);
    expect({ path, ...visible(direct) }).toEqual({ path, ...visible(await injected(path, '{}')) });
  }
  const refused = await send('POST', '/plugins/probe/hook/refuse', ['{}']);
  expect([refused.status, JSON.parse(refused.body).error]).toEqual([400, expect.objectContaining({ code: 'VALIDATION_FAILED', params: expect.objectContaining({ field: 'type' }) })]);
  // The frozen constant twice: the same bytes each time.
  expect((await send('POST', '/plugins/probe/hook/constant', ['{}'])).body).toBe('{"received":true}');
  expect((await send('POST', '/plugins/probe/hook/constant', ['{}'])).body).toBe('{"received":true}');
});

it('answers a frozen answer the same on its first request and every later one (the later from its prepared head and body), as fastify does', async () => {
  const path = '/plugins/probe/hook/frozen-refusal';
  const answers = [await send('POST', path, ['{}']), await send('POST', path, ['{}']), await send('POST', path, ['{}'])];
  const control = await injected(path, '{}');
  for (const a of answers) {
    expect(visible(a)).toEqual(visible(control));
    expect({ length: a.headers['content-length'], cache: a.headers['cache-control'] }).toEqual({ length: String(Buffer.byteLength(a.body)), cache: 'no-cache' });
    expect(JSON.parse(a.body)).toEqual({ error: 'déjà reçu', n: 1 });
    expect(a.status).toBe(409);
  }
});

it('gives each request the params of its own URL, however often a URL comes back, and a handler that changes its params changes no other request\'s', async () => {
  const params = [];
  for (const account of ['acct_1', 'acct_2', 'acct_1', 'acct_2', 'acct_1']) {
    const a = await send('POST', `/plugins/probe/hook/${account}/mutate`, ['{}']);
    params.push(JSON.parse(a.body).params);
  }
  expect(params).toEqual([{ account: 'acct_1' }, { account: 'acct_2' }, { account: 'acct_1' }, { account: 'acct_2' }, { account: 'acct_1' }]);
});

it('a plugin that throws, or answers a header node refuses to write, gets 500 INTERNAL_ERROR with a request id and no internals, as from fastify', async () => {
  const answers = [
    await send('POST', '/plugins/probe/hook/crash', ['{}']), await injected('/plugins/probe/hook/crash', '{}'),
    // Over the socket only: this is the intake's own guard (an unhandled rejection would end the process).
    await send('POST', '/plugins/probe/hook/bad-header', ['{}']),
  ];
  for (const a of answers) {
    expect(a.headers['set-cookie']).toBeUndefined();
    expect(a.status).toBe(500);
    expect(a.headers['cache-control']).toBe('private, no-store');
    const body = JSON.parse(a.body);
    expect(body.error.code).toBe('INTERNAL_ERROR');
    expect(typeof body.error.params.requestId).toBe('string');
    expect(a.body).not.toContain('the plugin has a bug');
  }
});

it('reads a body sent in pieces whole, and refuses one over 1 MB with 413 naming the body, the plugin never called', async () => {
  seen.length = 0;
  const pieces = ['{"a": "', 'x'.repeat(70_000), '", "b": ', '1}'];
  const whole = await send('POST', '/plugins/probe/hook/acct_2/echo', pieces);
  expect(JSON.parse(whole.body).raw).toBe(pieces.join(''));

  const big = 'y'.repeat(1024 * 1024 + 1);
  // Declared up front (Content-Length) and found while reading (chunked): both refused.
  const declared = await send('POST', '/plugins/probe/hook/acct_3/echo', [big], { 'content-length': String(big.length) });
  const streamed = await send('POST', '/plugins/probe/hook/acct_4/echo', [big.slice(0, 600_000), big.slice(600_000)]);
  for (const a of [declared, streamed]) {
    expect(a.status).toBe(413);
    expect(JSON.parse(a.body).error).toMatchObject({ code: 'VALIDATION_FAILED', params: { field: 'body' } });
  }
  expect(seen.map((r) => r.params)).toEqual([{ account: 'acct_2' }]);
});

it('leaves to fastify what is not a plain webhook path: a query, percent-encoding, another method, an unknown or non-webhook route', async () => {
  const before = fastifySaw.length;
  const withQuery = await send('POST', '/plugins/probe/hook/acct_5/echo?x=1', ['{}']);
  expect(withQuery.status).toBe(200);
  expect(JSON.parse(withQuery.body).params).toEqual({ account: 'acct_5' });
  const encoded = await send('POST', '/plugins/probe/hook/acct%5F6/echo', ['{}']);
  expect(JSON.parse(encoded.body).params).toEqual({ account: 'acct_6' });
  expect((await send('GET', '/plugins/probe/hook/acct_7/echo', [])).status).toBe(404);
  expect((await send('POST', '/plugins/probe/hook/acct_8/echo/more', ['{}'])).status).toBe(404);
  // A shop route of the same plugin keeps the site's CSRF check.
  expect((await send('POST', '/plugins/probe/shop-action', ['a=1'], { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' })).status).toBe(403);
  expect(fastifySaw.length).toBe(before + 5);
});

it('hands a shop request to fastify untouched: its body unread, nothing of the intake attached', async () => {
  const path = '/plugins/probe/shop-action';
  const res = await send('POST', path, ['email=a%40example.org&_csrf=x'], { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  expect(res.status).toBe(403);
  expect(bodyTouched.get(path)).toBe(false);
  // A shop page of the site too (not a plugin path at all).
  const shopPath = '/some-organizer/some-event/cart';
  await send('POST', shopPath, ['qty_x=1'], { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  expect(bodyTouched.get(shopPath)).toBe(false);
});

it('gives a webhook handler the headers as node does (lower-case names, repeats joined or the first kept, set-cookie an array), by name or enumerated', async () => {
  const raw = (headers: Record<string, string | string[]>) => new Promise<Answer>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/plugins/probe/hook/headers', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end('{}');
  });
  const a = await raw({
    'Stripe-Signature': 't=1,v1=abc', 'X-Mixed-CASE': 'yes', 'x-dup': ['one', 'two'], 'content-type': ['application/json', 'text/plain'], 'set-cookie': 'a=1',
  });
  expect(a.status).toBe(200);
  const body = JSON.parse(a.body);
  expect(body.named).toEqual({ signature: 't=1,v1=abc', mixed: 'yes', dup: 'one, two', type: 'application/json', cookie: ['a=1'], none: null });
  expect(body.has).toBe(true);
  expect(body.all).toMatchObject({ 'stripe-signature': 't=1,v1=abc', 'x-mixed-case': 'yes', 'x-dup': 'one, two', 'content-type': 'application/json', 'set-cookie': ['a=1'] });
  expect(body.after).toBe('one, two');
});

