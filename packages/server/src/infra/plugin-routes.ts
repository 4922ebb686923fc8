import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  KassaError, createPluginRuntimes, isRefusal, type Plugin, type PluginHttpRequest, type PluginHttpResponse, type PluginRoute, type PluginRuntime,
  type PluginRuntimes,
} from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { authenticateApiToken } from '../auth/api-token';
import type { LoginService } from '../auth/login.service';
import { buyerCsrfToken, buyerCsrfValid } from './buyer-session';
import { checkInput } from './input-guard';
import { limiter, rateLimits } from './rate-limits';
import { OrganizerScope } from '../auth/scope';
import { actionKeyOf, releaseIfRefused } from './action-guard';
import { checkPermission, checkTokenPermission } from '../auth/permissions';

/**
 * Enqueues a plugin's job; the jobs package provides it (absent: the plugin's own sweeper catches
 * up). `organizerId` is set here from the route's signed-in organizer, never by the plugin.
 */
export type PluginJobEnqueuer = (plugin: string, job: string, payload: Record<string, unknown>, opts?: { jobId?: string; delayMs?: number; organizerId?: string | null }) => Promise<void>;

export interface PluginRoutesOptions {
  deps: AppDeps;
  routes: readonly { plugin: string; route: PluginRoute; owner?: Plugin }[];
  /** The plugin port of this app (pluginRuntimesOf): one per app, shared by every route group, closed with the app. */
  runtimes: PluginRuntimes;
  login: LoginService;
  enqueue?: PluginJobEnqueuer;
}

// A cross-site page can only send these content types without a CORS preflight (which we never
// grant), so only they need the CSRF token; a JSON fetch from our own page cannot be forged.
const simpleContentTypes = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Mounts every plugin route under /plugins/<plugin><path> and adapts fastify to the framework-neutral
 * PluginHttpRequest/Response. By kind:
 * - `webhook`: the exact bytes reach the plugin (no parsing first), no security headers or CSP
 *   nonce; app.ts mounts these outside the site's scope, so no session and no CSRF either;
 * - `shop`: the buyer's sealed cookie (buyer-session.ts), no server session; a form post needs the
 *   CSRF token made from the cookie's secret (a view is handed one);
 * - `control`: a logged-in organizer user (its organizerId is passed on), CSRF as for shop; a
 *   `oneTime` route also needs the page's one-time action key (infra/action-guard.ts), and a
 *   control `view` is handed a fresh key of the organizer as `actionKey`;
 * - `api`: a Bearer token (its organizerId is passed on), no CSRF.
 * A `view` answer is rendered in the site layout with the plugin's partial.
 */
export const pluginRoutesPlugin: FastifyPluginAsync<PluginRoutesOptions> = async (app, opts) => {
  // Every body arrives as bytes; JSON and forms are parsed here so the plugin gets both forms.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), csrf: false };
  });

  const scope = new OrganizerScope(opts.deps.dataSource);
  /**
   * The payment or refund named by the route (NOT_FOUND for another organizer's) first, then the
   * key, bound to its order; a plain `oneTime: true` takes any key of the organizer's pages.
   */
  const claimFor = async (route: PluginRoute, req: PluginHttpRequest, organizerId: string): Promise<string> => {
    const oneTime = typeof route.oneTime === 'object' ? route.oneTime : undefined;
    const orderId = !oneTime ? undefined
      : 'paymentParam' in oneTime ? (await scope.payment(organizerId, req.params[oneTime.paymentParam] ?? '')).order.id
        : (await scope.refund(organizerId, req.params[oneTime.refundParam] ?? '')).order.id;
    return opts.deps.core.actionKeys.claim(actionKeyOf(req), { organizerId, orderId });
  };

  // The same counters as /api/v1: one budget per token and per address, whichever API they call.
  const limits = opts.deps.config.rateLimits;
  const apiLimits = {
    address: limiter(app, 'api-address', limits?.apiAddress ?? rateLimits.apiAddress, (req) => req.ip),
    token: limiter(app, 'api-token', limits?.api ?? rateLimits.api, (req) => req.apiPrincipal!.tokenId),
  };

  for (const { plugin, route } of opts.routes) {
    const url = `/plugins/${plugin}${route.path}`;
    const runtimeOf = pluginRuntimeFor(app, opts, plugin);
    const handler = route.handler;
    app.route({
      method: route.method,
      url,
      // Control and API routes: the plugin's permission (default: organizer settings), checked in
      // authorize() against the user's teams or the API token's permissions; event-level ones hold
      // on the event of the path's payment, else only on all events.
      config: {
        permission: route.kind === 'control' || route.kind === 'api' ? route.permission ?? 'organizer.settings' : 'public',
        permissionOnAllEvents: true,
        // A webhook answers a provider's server, never a browser: no security headers.
        ...(route.kind === 'webhook' ? { securityHeaders: false as const } : {}),
      },
      handler: async (req, reply) => {
        // Taken before authorize(): the CSRF check swaps req.body for the token it reads.
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const organizerId = await authorize(app, opts, route, req, reply, raw, apiLimits, scope);
        const body = route.kind === 'webhook' ? undefined : parseBody(req.headers['content-type'], raw);
        // Parsed here, not by fastify, so the input guard's body check runs here (webhooks: the plugin judges its raw body).
        checkInput('body', body);
        const pluginReq: PluginHttpRequest = {
          method: req.method,
          params: req.params as Record<string, string>,
          query: req.query as Record<string, string>,
          headers: req.headers,
          rawBody: raw,
          body,
          organizerId,
          ...(route.kind === 'control' ? { isAdmin: req.kassaUser?.isAdmin === true, isOperator: req.kassaUser?.isOperator === true } : {}),
          // A provider proves itself by its signature, not its address (the webhook intake has none to give).
          ...(route.kind === 'webhook' ? {} : { clientIp: req.ip }),
        };
        // A `oneTime` route acts once per page key: a double or replayed submit stops here.
        const claimed = route.oneTime && organizerId ? await claimFor(route, pluginReq, organizerId) : undefined;
        let res: PluginHttpResponse;
        try {
          // Jobs enqueued from a control or API route belong to its organizer; from a shop or
          // webhook route to no organizer (instance-wide: only operators see them fail).
          res = await handler(pluginReq, runtimeOf(organizerId ?? null));
        } catch (err) {
          if (claimed && isRefusal(err)) await opts.deps.core.actionKeys.release(claimed);
          throw err;
        }
        await releaseIfRefused(opts.deps.core.actionKeys, claimed, 'status' in res && res.status !== undefined ? res.status : 200);
        // A control page gets a one-time key of its organizer for its own forms (`oneTime` routes).
        const actionKey = route.kind === 'control' && organizerId && 'view' in res ? await opts.deps.core.actionKeys.issue({ organizerId }) : undefined;
        return sendPluginResponse(req, reply, res, route.kind === 'control', actionKey);
      },
    });
  }
};

type Limit = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

async function authorize(
  app: FastifyInstance, opts: PluginRoutesOptions, route: PluginRoute, req: FastifyRequest, reply: FastifyReply, raw: Buffer,
  apiLimits: { address: Limit; token: Limit }, scope: OrganizerScope,
): Promise<string | undefined> {
  if (route.kind === 'webhook') return undefined;
  if (route.kind === 'api') {
    await apiLimits.address(req, reply);
    req.apiPrincipal = await authenticateApiToken(opts.deps.dataSource, req.headers.authorization);
    await apiLimits.token(req, reply);
    await checkTokenPermission(req, req.apiPrincipal, scope);
    return req.apiPrincipal.organizerId;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === '' || simpleContentTypes.includes(type)) {
      const token = (parseBody(req.headers['content-type'], raw) as { _csrf?: string } | undefined)?._csrf
        ?? (req.headers['x-csrf-token'] as string | undefined);
      // Both checks read the token from the body or the header: hand them the parsed form.
      req.body = { _csrf: token };
      // A shop route's secret is in the buyer's cookie (buyer-session.ts), a control route's in the server session.
      if (route.kind === 'shop') {
        if (!buyerCsrfValid(req)) throw new KassaError('CSRF_INVALID');
      } else await new Promise<void>((resolve, reject) => app.csrfProtection(req, reply, (err?: Error) => (err ? reject(err) : resolve())));
      req.body = undefined;
    }
  }
  if (route.kind !== 'control') return undefined;
  const user = req.session.userId ? await opts.login.load(req.session.userId, req.session.organizerId) : null;
  if (!user) throw new KassaError('AUTH_REQUIRED');
  req.kassaUser = user;
  await checkPermission(req, scope);
  return user.organizerId;
}

function parseBody(contentType: string | undefined, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const type = String(contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new KassaError('VALIDATION_FAILED', { field: 'body', detail: 'body is not valid JSON' });
    }
  }
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  return undefined;
}

async function sendPluginResponse(
  req: FastifyRequest, reply: FastifyReply, res: PluginHttpResponse, control: boolean, actionKey?: string,
): Promise<FastifyReply> {
  if ('redirect' in res) return reply.redirect(res.redirect, res.status ?? 303);
  if ('view' in res) {
    const html = await reply.viewAsync('layouts/plugin-page', {
      title: res.title ?? '', partial: res.view.partial, data: res.view.data, cspNonce: reply.cspNonce?.script, csrfToken: control ? reply.generateCsrf?.() : buyerCsrfToken(req), actionKey,
      user: control ? req.kassaUser : undefined, brandHref: control ? '/control' : '/',
    });
    return reply.code(res.status ?? 200).type('text/html; charset=utf-8').send(html);
  }
  for (const [k, v] of Object.entries(res.headers ?? {})) reply.header(k, v);
  reply.code(res.status);
  if (res.body === undefined) return reply.send();
  if (Buffer.isBuffer(res.body) || typeof res.body === 'string') return reply.send(res.body);
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(res.body));
}

/**
 * The plugin port of one app: each plugin's runtime over the app's services, its per-host state
 * created once (the plugin's `setup`). The caller closes it with the app.
 */
export function pluginRuntimesOf(deps: AppDeps, routes: readonly { plugin: string; owner?: Plugin }[]): PluginRuntimes {
  const owners = new Map<string, Pick<Plugin, 'name' | 'providers' | 'setup'>>();
  for (const r of routes) if (!owners.has(r.plugin)) owners.set(r.plugin, r.owner ?? { name: r.plugin });
  return createPluginRuntimes({ core: deps.core, dataSource: deps.dataSource, settings: deps.settings, clock: deps.clock, baseUrl: deps.config.baseUrl }, [...owners.values()]);
}

/** The plugin's runtime for one request, its `enqueue` bound to the request's organizer (null: none). */
export function pluginRuntimeFor(app: FastifyInstance, opts: Pick<PluginRoutesOptions, 'runtimes' | 'enqueue'>, plugin: string): (organizerId: string | null) => PluginRuntime {
  const logger = app.log.child({ plugin });
  const log = (level: 'info' | 'warn' | 'error') => (msg: string, data?: Record<string, unknown>) => logger[level](data ?? {}, msg);
  const pluginLog = { info: log('info'), warn: log('warn'), error: log('error') };
  return (organizerId) => opts.runtimes.runtime(plugin, {
    log: pluginLog,
    async enqueue(job, payload, jobOpts) {
      if (!opts.enqueue) throw new KassaError('PROVIDER_ERROR', { provider: plugin, detail: `no job runtime to enqueue ${job}` });
      // Only the id and the delay come from the plugin; the organizer is the route's.
      await opts.enqueue(plugin, job, payload, { jobId: jobOpts?.jobId, delayMs: jobOpts?.delayMs, organizerId });
    },
  });
}
