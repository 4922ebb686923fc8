import fp from 'fastify-plugin';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { KassaError, type DataSource } from '@kassa/core/host';
import type { RateLimit } from '../deps';
import { pgRateLimitStore } from './rate-limit-store';

/**
 * The limits, per window. Route limits (`config: { rateLimit: rateLimits.login }`) count per client
 * address (req.ip: the peer, or the address a trusted proxy reports, see trusted-proxies.ts); the
 * others are counted by `limiter()` under their own keys.
 */
export const rateLimits = {
  /** Password guessing from one address: a handful of attempts per minute. */
  login: { max: 10, timeWindow: '1 minute' },
  /** Password guessing against one account from many addresses (per login email, known or not). */
  loginAccount: { max: 10, timeWindow: '15 minutes' },
  /** Placing orders: generous for a real buyer, a wall for a script. */
  placeOrder: { max: 30, timeWindow: '1 minute' },
  /** The REST API per token (docs/api.md). */
  api: { max: 300, timeWindow: '1 minute' },
  /** The REST API per address, before the token is looked at (floods, guessed tokens). */
  apiAddress: { max: 600, timeWindow: '1 minute' },
} as const satisfies Record<string, RateLimit>;

export interface RateLimitStoreOptions {
  dataSource: DataSource;
  /** Counters in Redis (shared by every instance on it); absent: in PostgreSQL (table rate_limit_counter). */
  redis?: Redis | null;
  /** Key prefix of the Redis counters. */
  prefix?: string;
}

/**
 * @fastify/rate-limit with counters shared by every instance: Redis when the instance has one,
 * otherwise PostgreSQL (never the plugin's in-process default, which a second instance or a
 * restart would bypass). Limits apply only where a route or `limiter()` asks for one.
 */
export const rateLimitPlugin = fp<RateLimitStoreOptions>(async (app, opts) => {
  await app.register(fastifyRateLimit, {
    global: false,
    ...(opts.redis ? { redis: opts.redis, nameSpace: opts.prefix ?? 'kassa-rate-limit:' } : { store: pgRateLimitStore(opts.dataSource) }),
    // A catalogued error, so the API answers its one error body and browsers the error page.
    errorResponseBuilder: (_req, ctx) => new KassaError('RATE_LIMITED', { retryAfter: ctx.after }),
  });
}, { name: 'kassa-rate-limit' });

/**
 * A limit counted under its own key (an account, a token), checked where that key is known (in a
 * hook or handler). Over the limit: 429 RATE_LIMITED with Retry-After in seconds.
 * @example const perAccount = limiter(app, 'login-account', rateLimits.loginAccount, (req) => email(req));
 */
export function limiter(app: FastifyInstance, name: string, limit: RateLimit, key: (req: FastifyRequest) => string):
  (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const check = app.createRateLimit({ max: limit.max, timeWindow: limit.timeWindow, keyGenerator: (req) => `${name}:${key(req)}` });
  return async (req, reply) => {
    const result = await check(req);
    if (result.isAllowed) return;
    reply.header('x-ratelimit-limit', result.max).header('x-ratelimit-remaining', result.remaining).header('x-ratelimit-reset', result.ttlInSeconds);
    if (!result.isExceeded) return;
    reply.header('retry-after', result.ttlInSeconds);
    throw new KassaError('RATE_LIMITED', { retryAfter: `${result.ttlInSeconds} seconds` });
  };
}
