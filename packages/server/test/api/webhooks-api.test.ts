import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { verifyWebhookSignature, WebhookService } from '@kassa/core/host';
import { createJobsRuntime, defineJobsConfig, silentLogger, type JobsRuntime } from '@kassa/jobs';
import {
  createOrganizerFixture, createTestApp, getPage, login, placeManualOrder, postForm, type Browser, type OrganizerFixture, type TestApp,
} from '../infra/test-app';

let t: TestApp;
let strict: TestApp;
let jobs: JobsRuntime;
let a: OrganizerFixture;
let b: OrganizerFixture;
let server: Server;
let base: string;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];
let answer = 200;
const secretKey = randomBytes(32);

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answer;
      res.end(answer < 300 ? 'ok' : 'down');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // This test's receiver is on loopback, so this app's operator allows private addresses.
  let service!: WebhookService;
  t = await createTestApp({}, (db) => {
    service = new WebhookService({ dataSource: db.dataSource, secretKey, allowPrivateAddresses: true, clock: undefined });
    return { webhooks: { service, enqueue: (d, n) => jobs.enqueueWebhookDeliveries(d, n) } };
  });
  jobs = await createJobsRuntime({
    dataSource: t.db.dataSource, logger: silentLogger, withoutEmailHandlers: true, webhooks: { service, timeoutMs: 2000 },
    config: defineJobsConfig({
      backend: { kind: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `kwh${randomBytes(4).toString('hex')}` },
      retry: { attempts: 2, backoffMs: 20 }, worker: { relayPollMs: 50, orderWaitMs: 50 },
    }),
  });
  await jobs.start({ schedulers: false });
  strict = await createTestApp({}, (db) => ({ webhooks: { service: new WebhookService({ dataSource: db.dataSource, secretKey }) } }));
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
});
afterAll(async () => {
  await jobs.stop();
  await jobs.destroyBackend();
  await t.close();
  await strict.close();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  received.length = 0;
  answer = 200;
});

function api(token: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, app = t) {
  return app.app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: payload === undefined ? undefined : JSON.stringify(payload),
  });
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('webhooks over the API', () => {
  it('creates a webhook (secret once), and delivers a paid order to it, signed', async () => {
    const created = await api(a.token, 'POST', '/api/v1/webhooks', { url: `${base}/paid`, eventTypes: ['order.paid'], comment: 'ERP' });
    expect(created.statusCode).toBe(201);
    const { webhook, secret } = created.json();
    expect(secret).toMatch(/^whsec_/);
    expect((await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}`)).json()).not.toHaveProperty('secret');

    const { order } = await placeManualOrder(t, a);
    await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_paid`, {});
    await waitFor('a delivery', async () => received.length === 1);
    const body = JSON.parse(received[0]!.body);
    expect(body).toMatchObject({ type: 'order.paid', organizerId: a.organizer.id, data: { orderId: order.id, orderCode: order.code } });
    expect(verifyWebhookSignature(secret, received[0]!.body, String(received[0]!.headers['kassa-signature']), new Date())).toBe(true);

    await waitFor('the delivery log', async () => (await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries`)).json().results[0]?.state === 'delivered');
    const [delivery] = (await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries`)).json().results;
    expect(delivery).toMatchObject({ eventType: 'order.paid', attempts: 1, responseStatus: 200, eventId: body.id });
    const one = (await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries/${delivery.id}`)).json();
    expect(one).toMatchObject({ payload: body, responseBody: 'ok' });

    // Retry: sent again, same event id, attempts counted on.
    const retry = await api(a.token, 'POST', `/api/v1/webhooks/${webhook.id}/deliveries/${delivery.id}/retry`, {});
    expect(retry.statusCode).toBe(202);
    await waitFor('the retry', async () => received.length === 2);
    expect(JSON.parse(received[1]!.body).id).toBe(body.id);
    await waitFor('attempts 2', async () => (await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries/${delivery.id}`)).json().attempts === 2);

    // Another organizer sees none of it.
    for (const [method, url] of [
      ['GET', `/api/v1/webhooks/${webhook.id}`], ['GET', `/api/v1/webhooks/${webhook.id}/deliveries`],
      ['GET', `/api/v1/webhooks/${webhook.id}/deliveries/${delivery.id}`], ['POST', `/api/v1/webhooks/${webhook.id}/deliveries/${delivery.id}/retry`],
      ['PATCH', `/api/v1/webhooks/${webhook.id}`], ['DELETE', `/api/v1/webhooks/${webhook.id}`], ['POST', `/api/v1/webhooks/${webhook.id}/rotate_secret`],
    ] as const) {
      const res = await api(b.token, method, url, method === 'GET' || method === 'DELETE' ? undefined : method === 'PATCH' ? { enabled: false } : {});
      expect([method, url, res.statusCode]).toEqual([method, url, 404]);
    }
    expect((await api(b.token, 'GET', '/api/v1/webhooks')).json().results).toEqual([]);
    expect((await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}`)).json()).toMatchObject({ enabled: true, url: `${base}/paid` });
  });

  it('changes, rotates and deletes a webhook', async () => {
    const { webhook, secret } = (await api(a.token, 'POST', '/api/v1/webhooks', { url: `${base}/x`, eventTypes: ['order.placed'] })).json();
    const patched = await api(a.token, 'PATCH', `/api/v1/webhooks/${webhook.id}`, { eventTypes: ['order.canceled', 'refund.done'], enabled: false });
    expect(patched.json()).toMatchObject({ eventTypes: ['order.canceled', 'refund.done'], enabled: false });
    const rotated = (await api(a.token, 'POST', `/api/v1/webhooks/${webhook.id}/rotate_secret`, {})).json();
    expect(rotated.secret).not.toBe(secret);
    expect((await api(a.token, 'DELETE', `/api/v1/webhooks/${webhook.id}`)).statusCode).toBe(204);
    expect((await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}`)).statusCode).toBe(404);
  });

  it.each([
    [{ url: 'ftp://example.org', eventTypes: ['order.paid'] }, 'url'],
    [{ url: 'https://example.org/h', eventTypes: [] }, 'eventTypes'],
    [{ url: 'https://example.org/h', eventTypes: ['order.exploded'] }, 'eventTypes.0'],
    [{ eventTypes: ['order.paid'] }, 'url'],
    [{ url: 'https://example.org/h', eventTypes: ['order.paid'], secret: 'mine' }, 'secret'],
  ])('refuses %j with 400 naming %s', async (body, field) => {
    const res = await api(a.token, 'POST', '/api/v1/webhooks', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.params.field).toBe(field);
  });

  it('refuses private and loopback addresses where the operator has not allowed them', async () => {
    const f = await createOrganizerFixture(strict);
    for (const url of ['http://127.0.0.1:9/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://localhost/x', 'http://192.168.1.10/x']) {
      const res = await api(f.token, 'POST', '/api/v1/webhooks', { url, eventTypes: ['order.paid'] }, strict);
      expect([url, res.statusCode, res.json().error.params.field]).toEqual([url, 400, 'url']);
    }
    expect((await api(f.token, 'POST', '/api/v1/webhooks', { url: 'https://hooks.example.org/kassa', eventTypes: ['order.paid'] }, strict)).statusCode).toBe(201);
  });
});

describe('event filter and test ping', () => {
  it('delivers to each endpoint only the event types it chose', async () => {
    const all = (await api(a.token, 'POST', '/api/v1/webhooks', { url: `${base}/all`, eventTypes: ['order.placed', 'order.paid', 'order.canceled', 'refund.done'] })).json().webhook;
    const canceledOnly = (await api(a.token, 'POST', '/api/v1/webhooks', { url: `${base}/canceled-only`, eventTypes: ['order.canceled'] })).json().webhook;
    const { order } = await placeManualOrder(t, a);
    await api(a.token, 'POST', `/api/v1/orders/${order.id}/mark_paid`, {});
    const types = async (id: string) => (await api(a.token, 'GET', `/api/v1/webhooks/${id}/deliveries`)).json().results.map((d: { eventType: string }) => d.eventType).sort();
    // Both events were handled (the deliveries of every endpoint are written together per event).
    await waitFor('both events at the endpoint for all types', async () => (await types(all.id)).join() === 'order.paid,order.placed');
    expect(await types(canceledOnly.id)).toEqual([]);
    // The filter can be changed; from then on the new choice counts.
    expect((await api(a.token, 'PATCH', `/api/v1/webhooks/${canceledOnly.id}`, { eventTypes: ['order.canceled', 'order.placed'] })).json().eventTypes).toEqual(['order.canceled', 'order.placed']);
    await placeManualOrder(t, a);
    await waitFor('the placed order', async () => (await types(canceledOnly.id)).join() === 'order.placed');
    for (const id of [all.id, canceledOnly.id]) await api(a.token, 'DELETE', `/api/v1/webhooks/${id}`);
  });

  it('sends a signed test ping over the API and from the control panel, logged as a delivery, to any endpoint of the organizer only', async () => {
    const created = (await api(a.token, 'POST', '/api/v1/webhooks', { url: `${base}/ping`, eventTypes: ['refund.done'] })).json();
    const { webhook, secret } = created;
    const res = await api(a.token, 'POST', `/api/v1/webhooks/${webhook.id}/ping`, {});
    expect(res.statusCode).toBe(202);
    const queued = res.json();
    expect(queued).toMatchObject({ webhookId: webhook.id, eventType: 'ping', eventId: `ping_${queued.id}` });
    await waitFor('the ping', async () => received.some((r) => JSON.parse(r.body).type === 'ping'));
    const sent = received.find((r) => JSON.parse(r.body).type === 'ping')!;
    expect(JSON.parse(sent.body)).toMatchObject({ id: `ping_${queued.id}`, type: 'ping', organizerId: a.organizer.id, data: { webhookId: webhook.id } });
    expect(verifyWebhookSignature(secret, sent.body, String(sent.headers['kassa-signature']), new Date())).toBe(true);
    expect(sent.headers['kassa-delivery']).toBe(queued.id);
    await waitFor('the ping in the delivery log', async () => (await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries/${queued.id}`)).json().state === 'delivered');
    expect((await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries/${queued.id}`)).json()).toMatchObject({ responseStatus: 200, attempts: 1, responseBody: 'ok' });

    // Another organizer's token: 404, nothing queued.
    const before = received.length;
    expect((await api(b.token, 'POST', `/api/v1/webhooks/${webhook.id}/ping`, {})).statusCode).toBe(404);
    expect((await t.db.dataSource.query("SELECT count(*)::int AS n FROM webhook_delivery WHERE endpoint_id = $1 AND event_type = 'ping'", [webhook.id]))[0].n).toBe(1);

    // The control panel's button: CSRF needed, 404 for another organizer, then the delivery page.
    const browser = await login(t, a.email, a.password);
    const page = await getPage(t, browser, `/control/webhooks/${webhook.id}`);
    expect(page.body).toContain(`action="/control/webhooks/${webhook.id}/ping"`);
    expect((await postForm(t, browser, `/control/webhooks/${webhook.id}/ping`, {}, { csrf: null })).statusCode).toBe(403);
    const other = await login(t, b.email, b.password);
    expect((await postForm(t, other, `/control/webhooks/${webhook.id}/ping`)).statusCode).toBe(404);
    const pinged = await postForm(t, browser, `/control/webhooks/${webhook.id}/ping`);
    expect(pinged.statusCode).toBe(303);
    const deliveryUrl = String(pinged.headers.location);
    expect(deliveryUrl).toMatch(new RegExp(`^/control/webhooks/${webhook.id}/deliveries/[0-9a-f-]{36}$`));
    await waitFor('the second ping', async () => received.length === before + 1);
    await waitFor('delivered', async () => (await getPage(t, browser, deliveryUrl)).body.includes('delivered'));
    expect((await getPage(t, browser, `/control/webhooks/${webhook.id}`)).body).toContain('Test ping');
    expect((await t.db.dataSource.query("SELECT count(*)::int AS n FROM webhook_delivery WHERE endpoint_id = $1 AND event_type = 'ping'", [webhook.id]))[0].n).toBe(2);

    // A disabled webhook's ping is logged, not sent.
    await api(a.token, 'PATCH', `/api/v1/webhooks/${webhook.id}`, { enabled: false });
    const sentBefore = received.length;
    const off = (await api(a.token, 'POST', `/api/v1/webhooks/${webhook.id}/ping`, {})).json();
    await waitFor('the disabled ping', async () => (await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries/${off.id}`)).json().state === 'undeliverable');
    expect((await api(a.token, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries/${off.id}`)).json().error).toBe('the endpoint is disabled');
    expect(received.length).toBe(sentBefore);
  });
});

describe('webhooks in the OpenAPI document', () => {
  it('documents every webhook route', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/webhooks')).sort()).toEqual([
      '/api/v1/webhooks', '/api/v1/webhooks/{webhookId}', '/api/v1/webhooks/{webhookId}/deliveries', '/api/v1/webhooks/{webhookId}/deliveries/{deliveryId}',
      '/api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry', '/api/v1/webhooks/{webhookId}/ping', '/api/v1/webhooks/{webhookId}/rotate_secret',
    ]);
    expect(Object.keys(doc.paths['/api/v1/webhooks/{webhookId}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(doc.components.schemas).toHaveProperty('WebhookDelivery');
  });

  it('gives every operation a summary, a tag, a success answer and the error answers', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const operations = Object.entries(doc.paths as Record<string, Record<string, { summary?: string; tags?: string[]; responses?: Record<string, unknown> }>>)
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, op })));
    expect(operations.length).toBeGreaterThan(25);
    for (const { at, op } of operations) {
      expect([at, typeof op.summary, op.tags?.length]).toEqual([at, 'string', 1]);
      const codes = Object.keys(op.responses ?? {});
      expect([at, codes.some((c) => /^2\d\d$/.test(c)), codes.includes('404'), codes.includes('401')]).toEqual([at, true, true, true]);
    }
  });
});

describe('webhooks in the control panel', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await login(t, a.email, a.password);
  });

  it('creates a webhook from the form (secret shown once), shows its delivery log with payload and answer, and retries', async () => {
    const page = await getPage(t, browser, '/control/webhooks');
    expect(page.statusCode).toBe(200);
    const created = await postForm(t, browser, '/control/webhooks', { url: `${base}/cp`, eventTypes: ['order.placed'], enabled: 'on', comment: 'Box office' });
    expect(created.statusCode).toBe(201);
    const secret = /id="new-secret">([^<]+)</.exec(created.body)?.[1];
    expect(secret).toMatch(/^whsec_/);
    const id = /href="\/control\/webhooks\/([0-9a-f-]{36})"/.exec(created.body)![1]!;
    expect((await getPage(t, browser, '/control/webhooks')).body).not.toContain(secret!);

    answer = 500;
    await placeManualOrder(t, a);
    await waitFor('two failed attempts', async () => received.length === 2);
    let detail = await getPage(t, browser, `/control/webhooks/${id}`);
    await waitFor('undeliverable', async () => (detail = await getPage(t, browser, `/control/webhooks/${id}`)).body.includes('undeliverable'));
    expect(detail.body).toContain('HTTP 500');
    const deliveryId = new RegExp(`/control/webhooks/${id}/deliveries/([0-9a-f-]{36})`).exec(detail.body)![1]!;
    const deliveryPage = await getPage(t, browser, `/control/webhooks/${id}/deliveries/${deliveryId}`);
    expect(deliveryPage.body).toContain('&quot;type&quot;: &quot;order.placed&quot;');
    expect(deliveryPage.body).toContain('down');

    answer = 200;
    const retry = await postForm(t, browser, `/control/webhooks/${id}/deliveries/${deliveryId}/retry`);
    expect(retry.statusCode).toBe(303);
    await waitFor('delivered', async () => (await getPage(t, browser, `/control/webhooks/${id}/deliveries/${deliveryId}`)).body.includes('delivered'));
  });

  it('refuses forms without CSRF, shows field errors, and answers 404 for another organizer\'s webhook', async () => {
    expect((await postForm(t, browser, '/control/webhooks', { url: `${base}/z`, eventTypes: ['order.paid'] }, { csrf: null })).statusCode).toBe(403);
    const bad = await postForm(t, browser, '/control/webhooks', { url: 'ftp://nope', eventTypes: ['order.paid'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('must start with https://');
    const none = await postForm(t, browser, '/control/webhooks', { url: 'https://example.org/h' });
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('Events:');

    const theirs = (await api(b.token, 'POST', '/api/v1/webhooks', { url: `${base}/b`, eventTypes: ['order.paid'] })).json().webhook;
    expect((await getPage(t, browser, `/control/webhooks/${theirs.id}`)).statusCode).toBe(404);
    expect((await postForm(t, browser, `/control/webhooks/${theirs.id}/delete`)).statusCode).toBe(404);
    expect((await postForm(t, browser, `/control/webhooks/${theirs.id}/rotate`)).statusCode).toBe(404);
    expect((await postForm(t, browser, `/control/webhooks/${theirs.id}`, { url: `${base}/mine`, eventTypes: ['order.paid'] })).statusCode).toBe(404);
    expect((await api(b.token, 'GET', `/api/v1/webhooks/${theirs.id}`)).json().url).toBe(`${base}/b`);
  });

  it("needs the organizer-settings permission (a member without it gets 404)", async () => {
    const { createUser } = await import('../infra/test-app');
    const member = await createUser(t, a.organizer, { isAdmin: false });
    const m = await login(t, member.email, member.password);
    expect((await getPage(t, m, '/control/webhooks')).statusCode).toBe(404);
  });
});
