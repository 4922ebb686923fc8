import type { FastifyInstance } from 'fastify';
import { createTestApp, type TestApp } from './test-app';

let t: TestApp;
let app: FastifyInstance;

beforeAll(async () => {
  t = await createTestApp();
  app = t.app;
});
afterAll(async () => {
  await t.close();
});

describe('app infrastructure', () => {
  it('serves the icon at /favicon.ico and links it from the layout', async () => {
    const res = await app.inject({ method: 'GET', url: '/favicon.ico' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/svg+xml');
    expect(res.body).toContain('<svg');
  });

  it('serves the stylesheet from /static/kassa.css', async () => {
    const res = await app.inject({ method: 'GET', url: '/static/kassa.css' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/css');
    expect(res.body).toContain('--accent');
  });

  it('answers an unknown API route with the one JSON error body', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'No page at GET /api/v1/nope', params: { method: 'GET', url: '/api/v1/nope' } } });
  });

  it('answers a browser with a styled error page', async () => {
    const res = await app.inject({ method: 'GET', url: '/nowhere', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('/static/kassa.css');
    expect(res.body).toContain('ROUTE_NOT_FOUND');
  });
});
