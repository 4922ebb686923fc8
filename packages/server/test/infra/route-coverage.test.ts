import { randomBytes } from 'node:crypto';
import { WebhookService } from '@kassa/core/host';
import type { RouteOptions } from 'fastify';
import { routesOf } from '../../src/app';
import { createOrganizerFixture, createTestApp, login, postForm, type TestApp } from './test-app';

/*
 * Issue 18's "OpenAPI complete" and "CSRF on every form", over every route the app registers (as
 * fastify registered them), so a route added later without either fails here.
 */
let t: TestApp;

beforeAll(async () => {
  // With webhooks and the bulk-task routes configured, so every API route family is registered.
  t = await createTestApp({}, (db) => ({
    webhooks: { service: new WebhookService({ dataSource: db.dataSource, secretKey: randomBytes(32) }), enqueue: async () => undefined },
    enqueueHostJob: async () => undefined,
  }));
  await t.app.ready();
});
afterAll(async () => t.close());

const methodsOf = (r: RouteOptions) => ([] as string[]).concat(r.method as string | string[]).filter((m) => m !== 'HEAD');
const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

it('documents every /api/v1 route in the OpenAPI document, with a summary, a tag and the error answers', async () => {
  const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as { paths: Record<string, Record<string, { summary?: string; description?: string; tags?: string[]; responses?: Record<string, unknown> }>> };
  const registered = routesOf(t.app).filter((r) => r.url.startsWith('/api/v1/') && r.url !== '/api/v1/openapi.json')
    .flatMap((r) => methodsOf(r).map((m) => `${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`));
  expect(registered.length).toBeGreaterThanOrEqual(40);
  const missing = registered.filter((key) => {
    const [method, path] = key.split(' ') as [string, string];
    const op = doc.paths[path]?.[method.toLowerCase()];
    return !op || !op.summary || op.tags?.length !== 1 || !op.responses?.['401'] || !op.responses?.['404'];
  });
  expect(missing).toEqual([]);
  // Each operation names the token permission it needs.
  expect(doc.paths['/api/v1/orders/{orderId}/mark_expired']!.post!).toMatchObject({ description: expect.stringContaining('Token permission: `event.orders.change`.') });
  expect(doc.paths['/api/v1/exports']!.post!).toMatchObject({ description: expect.stringContaining('Token permission: `event.orders.view` on all events.') });
  expect(doc.paths['/api/v1/webhooks']!.get!).toMatchObject({ description: expect.stringContaining('Token permission: `organizer.settings`.') });
  // Among them the routes this issue added last.
  for (const key of ['POST /api/v1/webhooks/{webhookId}/ping', 'GET /api/v1/events/{eventId}/log', 'POST /api/v1/shredder', 'POST /api/v1/exports']) expect(registered).toContain(key);
});

it('checks the CSRF token on every state-changing control-panel route: none opts out, and a form without it is refused', async () => {
  const control = routesOf(t.app).filter((r) => r.url.startsWith('/control') && methodsOf(r).some((m) => stateChanging.has(m)));
  expect(control.length).toBeGreaterThan(40);
  expect(control.filter((r) => (r.config as { csrf?: unknown } | undefined)?.csrf === false).map((r) => r.url)).toEqual([]);
  // Every such route without ids in its path, posted by a signed-in admin without the token: 403, whatever the route.
  const f = await createOrganizerFixture(t);
  // An organizer admin who is also an instance operator reaches every one of them (the admin area too).
  await t.db.dataSource.query('UPDATE app_user SET is_operator = true WHERE email = $1', [f.email]);
  const admin = await login(t, f.email, f.password);
  const plain = control.filter((r) => !r.url.includes(':') && r.url !== '/control/login' && r.url !== '/control/logout');
  expect(plain.length).toBeGreaterThan(5);
  for (const r of plain) {
    const res = await postForm(t, admin, r.url, {}, { csrf: null });
    expect(`${r.url} ${res.statusCode}`).toBe(`${r.url} 403`);
  }
});
