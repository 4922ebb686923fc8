import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { createApiToken } from '../../src/auth/api-token';
import { buildApp } from '../../src/app';
import { cookieOf, createOrganizerFixture, createTestApp, csrfOf, type OrganizerFixture, type TestApp } from '../infra/test-app';

/*
 * Login and API limits through HTTP: who counts as "the client" (trusted proxies only), counters
 * shared by every instance (Redis, or PostgreSQL without it), per-account throttling across
 * addresses, and the API's 429 with Retry-After.
 */
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const limits = {
  login: { max: 3, timeWindow: '1 minute' },
  loginAccount: { max: 5, timeWindow: '15 minutes' },
  api: { max: 3, timeWindow: '1 minute' },
  apiAddress: { max: 6, timeWindow: '1 minute' },
};

let t: TestApp;
let f: OrganizerFixture;
const extraApps: FastifyInstance[] = [];
const redisClients: Redis[] = [];

beforeAll(async () => {
  t = await createTestApp({ rateLimits: limits });
  f = await createOrganizerFixture(t);
});
afterAll(async () => {
  for (const app of extraApps) await app.close();
  for (const r of redisClients) await r.quit();
  await t.close();
});

/** One login attempt from `peer` (the TCP address), through a fresh login page. */
async function attempt(app: FastifyInstance, opts: { peer: string; email?: string; password?: string; forwardedFor?: string }): Promise<number> {
  const headers = opts.forwardedFor ? { 'x-forwarded-for': opts.forwardedFor } : {};
  const page = await app.inject({ method: 'GET', url: '/control/login', remoteAddress: opts.peer, headers });
  const res = await app.inject({
    method: 'POST', url: '/control/login', remoteAddress: opts.peer,
    headers: { ...headers, cookie: cookieOf(page), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    payload: new URLSearchParams({ email: opts.email ?? `nobody-${randomBytes(4).toString('hex')}@example.test`, password: opts.password ?? 'guess', _csrf: csrfOf(page.body) }).toString(),
  });
  return res.statusCode;
}

async function attempts(n: number, run: (i: number) => Promise<number>): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) codes.push(await run(i));
  return codes;
}

describe('trusted proxies', () => {
  it('ignores X-Forwarded-For from a peer that is not a configured proxy, even on a private network', async () => {
    // Before KASSA_TRUSTED_PROXIES every private-range peer was trusted: a new forwarded address per try reset the limit.
    const codes = await attempts(4, (i) => attempt(t.app, { peer: '10.1.2.3', forwardedFor: `198.51.100.${i}` }));
    expect(codes).toEqual([401, 401, 401, 429]);
    // The limit sits on the peer: another forwarded address from it is refused too.
    expect(await attempt(t.app, { peer: '10.1.2.3', forwardedFor: '203.0.113.99' })).toBe(429);
  });

  it('counts each client behind a configured proxy by the address the proxy reports', async () => {
    const proxied = await createTestApp({ rateLimits: limits, trustProxy: '10.9.0.1, 192.0.2.0/28' });
    try {
      const viaProxy = (client: string) => attempt(proxied.app, { peer: '10.9.0.1', forwardedFor: client });
      expect(await attempts(4, () => viaProxy('198.51.100.7'))).toEqual([401, 401, 401, 429]);
      // Another client behind the same proxy has its own count (and from the CIDR-listed proxy too).
      expect(await viaProxy('198.51.100.8')).toBe(401);
      expect(await attempt(proxied.app, { peer: '192.0.2.5', forwardedFor: '198.51.100.9' })).toBe(401);
      // A peer outside the list cannot pose as the limited client's neighbour: it is counted as itself.
      expect(await attempts(4, (i) => attempt(proxied.app, { peer: '10.9.0.2', forwardedFor: `198.51.100.${20 + i}` }))).toEqual([401, 401, 401, 429]);
    } finally {
      await proxied.close();
    }
  });
});

describe('shared counters', () => {
  it('shares the login limit between two instances on one PostgreSQL database (no Redis)', async () => {
    const second = await buildApp(t.deps);
    extraApps.push(second);
    const codes = await attempts(4, (i) => attempt(i % 2 === 0 ? t.app : second, { peer: '10.20.0.1' }));
    expect(codes).toEqual([401, 401, 401, 429]);
    const rows = (await t.db.dataSource.query("SELECT key, hits FROM rate_limit_counter WHERE key LIKE '%10.20.0.1'")) as { key: string; hits: string }[];
    expect(rows).toEqual([{ key: 'POST/control/login-10.20.0.1', hits: '4' }]);
  });

  it('counts a burst of simultaneous hits on two instances exactly: hits sent together in one statement are numbered one by one', async () => {
    const second = await buildApp(t.deps);
    extraApps.push(second);
    // Twelve attempts at once (each app batches the hits that arrive while its statement is in flight), plus other addresses between them.
    const codes = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(i % 2 === 0 ? t.app : second, { peer: '10.21.0.1' })));
    const others = await Promise.all(Array.from({ length: 4 }, (_, i) => attempt(t.app, { peer: `10.21.1.${i}` })));
    expect(codes.filter((c) => c === 401)).toHaveLength(3);
    expect(codes.filter((c) => c === 429)).toHaveLength(9);
    expect(others).toEqual([401, 401, 401, 401]);
    const rows = (await t.db.dataSource.query("SELECT hits FROM rate_limit_counter WHERE key = 'POST/control/login-10.21.0.1'")) as { hits: string }[];
    expect(rows).toEqual([{ hits: '12' }]);
    const [table] = await t.db.dataSource.query("SELECT relpersistence FROM pg_class WHERE oid = 'rate_limit_counter'::regclass");
    expect(table.relpersistence).toBe('u');
  });

  it('shares the login limit between two instances on one Redis, where the counters then live', async () => {
    const prefix = `kassa-test-rl-${randomBytes(6).toString('hex')}:`;
    const [a, b] = [new Redis(redisUrl), new Redis(redisUrl)];
    redisClients.push(a, b);
    const appA = await buildApp({ ...t.deps, rateLimitRedis: a, rateLimitPrefix: prefix });
    const appB = await buildApp({ ...t.deps, rateLimitRedis: b, rateLimitPrefix: prefix });
    extraApps.push(appA, appB);
    try {
      const codes = await attempts(4, (i) => attempt(i % 2 === 0 ? appA : appB, { peer: '10.30.0.1' }));
      expect(codes).toEqual([401, 401, 401, 429]);
      expect(await a.get(`${prefix}POST/control/login-10.30.0.1`)).toBe('4');
      expect((await t.db.dataSource.query("SELECT count(*)::int AS n FROM rate_limit_counter WHERE key LIKE '%10.30.0.1'"))[0].n).toBe(0);
    } finally {
      const keys = await a.keys(`${prefix}*`);
      if (keys.length) await a.del(...keys);
    }
  });
});

describe('per-account throttling', () => {
  it('stops guesses at one account from many addresses, and leaves other accounts alone', async () => {
    const codes = await attempts(6, (i) => attempt(t.app, { peer: `10.40.0.${i}`, email: f.email.toUpperCase() }));
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
    // Even the right password waits out the window: the guesser cannot tell it was right.
    expect(await attempt(t.app, { peer: '10.40.1.1', email: f.email, password: f.password })).toBe(429);
    const other = await createOrganizerFixture(t);
    expect(await attempt(t.app, { peer: '10.40.1.2', email: other.email, password: other.password })).toBe(303);
  });

  it('throttles an unknown email exactly like a known one (no account enumeration)', async () => {
    const ghost = `ghost-${randomBytes(4).toString('hex')}@example.test`;
    const codes = await attempts(6, (i) => attempt(t.app, { peer: `10.50.0.${i}`, email: ghost }));
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
  });
});

describe('API rate limit', () => {
  const get = (token: string, peer = '10.60.0.1') =>
    t.app.inject({ method: 'GET', url: '/api/v1/orders', remoteAddress: peer, headers: { authorization: `Bearer ${token}` } });

  it('answers 429 RATE_LIMITED with Retry-After once a token used up its window, and counts per token', async () => {
    const { token } = await createApiToken(t.db.dataSource, f.organizer.id, 'busy');
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await get(token, `10.60.0.${i}`)).statusCode);
    expect(codes).toEqual([200, 200, 200]);
    const limited = await get(token, '10.60.0.9');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60).toBe(true);
    const { token: other } = await createApiToken(t.db.dataSource, f.organizer.id, 'quiet');
    expect((await get(other, '10.60.0.10')).statusCode).toBe(200);
  });

  it('limits one address guessing tokens before any token is looked up', async () => {
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push((await get(`kassa_${randomBytes(32).toString('base64url')}`, '10.70.0.1')).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401, 401, 429]);
  });
});
