import Fastify, { type FastifyInstance, type FastifyReply, type RouteOptions } from 'fastify';
import fastifyFormbody from '@fastify/formbody';
import { globalSettings, KassaError, providerNamespace, type PluginLogger, type PluginRuntime, type ProviderContext } from '@kassa/core/host';
import type { AppDeps } from './deps';
import { viewsPlugin } from './infra/views';
import { staticPlugin } from './infra/static';
import { vendorScriptsPlugin } from './infra/vendor-scripts';
import { errorHandlerPlugin } from './infra/error-handler';
import { buyerScopePlugin, mergeCsp, securityHeadersPlugin, sessionPlugin, type CspAdditions } from './infra/security';
import { rateLimitPlugin } from './infra/rate-limits';
import { inputGuardPlugin } from './infra/input-guard';
import { trustProxyOption } from './infra/trusted-proxies';
import { shopRoutes } from './shop';
import { controlRoutes } from './control';
import { apiRoutes } from './api';
import { pluginRoutesPlugin, pluginRuntimeFor, pluginRuntimesOf } from './infra/plugin-routes';
import { LoginService } from './auth/login.service';
import { dashboardNoticesSource, noticeEnqueue } from './infra/plugin-notices';
import { wellKnownPlugin } from './infra/well-known';
import { WebhookIntake, webhookFirstServer } from './infra/webhook-intake';

/**
 * Builds the Kassa HTTP app: infrastructure first (body parsers, views, static files, errors,
 * sessions, CSRF, security headers, rate limits), then the route groups, registered explicitly so
 * `grep` finds every route. Never listens: main.ts does, tests use `app.inject()`.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Set once the plugin routes are known; until then (and for inject()) fastify serves everything.
  let intake: WebhookIntake | undefined;
  const app = Fastify({
    serverFactory: (handler, options) => webhookFirstServer(handler, options, () => intake),
    logger: deps.config.logger ? { level: deps.config.logger.level } : false,
    trustProxy: trustProxyOption(deps.config),
    // Coercion lets form posts and query strings carry numbers; the first error is reported with its field.
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false } },
    // A path the router cannot read (a percent-encoding that is not UTF-8, a parameter longer than
    // the router takes) is bad input like any other: Kassa's 400 naming the url, not fastify's bare
    // answer. The router answers before any hook or error handler exists for the request, so the
    // JSON body and the headers a cache and a browser need are written here.
    frameworkErrors: (err, _req, frameworkReply) => {
      const reply = frameworkReply as unknown as FastifyReply;
      const problem = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'has a segment that is too long' : 'is not valid percent-encoded UTF-8';
      const refusal = new KassaError('VALIDATION_FAILED', { field: 'url', in: 'path', detail: `the path ${problem}` });
      return reply.code(refusal.status)
        .headers({ 'cache-control': 'private, no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" })
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: { code: refusal.code, message: refusal.message, params: { ...refusal.params } } }));
    },
  });
  const routes: RouteOptions[] = [];
  registeredRoutes.set(app, routes);
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });

  await app.register(fastifyFormbody);
  await app.register(viewsPlugin, { devTemplates: deps.config.devTemplates, pluginViews: deps.pluginViews });
  await app.register(staticPlugin);
  await app.register(vendorScriptsPlugin);
  await app.register(errorHandlerPlugin);
  await app.register(securityHeadersPlugin, { baseUrl: deps.config.baseUrl, csp: await providerCsp(deps) });
  await app.register(rateLimitPlugin, { dataSource: deps.dataSource, redis: deps.rateLimitRedis, prefix: deps.rateLimitPrefix });
  // Pages carry personal data (orders, the panel, checkout steps) and session-bound CSRF tokens: no
  // browser or shared cache may keep them. Routes that are public on purpose (static files) say so.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'private, no-store');
    done(null, payload);
  });

  const pluginRoutes = deps.pluginRoutes ?? [];
  // One plugin port per app (the plugins' per-host state), shared by both route groups and closed with the app.
  const noticePlugins = deps.pluginDashboardNotices ?? [];
  const runtimes = pluginRuntimesOf(deps, [...pluginRoutes, ...noticePlugins]);
  app.addHook('onClose', () => runtimes.close());
  const pluginOpts = {
    deps, runtimes, enqueue: deps.enqueuePluginJob, login: new LoginService(deps.dataSource, { logN: deps.config.passwordLogN }),
  };
  await app.register(wellKnownPlugin, { applePayDomainAssociation: deps.config.applePayDomainAssociation });

  // Provider webhooks live outside the site's scope: no cookie, no session read or written, no CSRF,
  // no CSP nonce (a provider's server calls them and proves itself by a signature on the raw body).
  // On a listening server they are answered before fastify routes them (infra/webhook-intake.ts);
  // the fastify routes answer the same for inject() and for paths the intake leaves alone.
  const webhooks = pluginRoutes.filter((r) => r.route.kind === 'webhook');
  if (webhooks.length) {
    await app.register(pluginRoutesPlugin, { ...pluginOpts, routes: webhooks });
    const runtimeOf = (plugin: string) => {
      let runtime: PluginRuntime | undefined;
      return () => (runtime ??= pluginRuntimeFor(app, pluginOpts, plugin)(null));
    };
    const open = new WebhookIntake(webhooks.map(({ plugin, route }) => ({ plugin, route, runtime: runtimeOf(plugin) })), app.log);
    intake = open;
    app.addHook('preClose', async () => open.close());
  }

  await app.register(async (site) => {
    await site.register(inputGuardPlugin);
    await site.register(buyerScopePlugin, { baseUrl: deps.config.baseUrl, sessionSecret: deps.config.sessionSecret });
    // The buyer's shop keeps its state in the buyer's sealed cookie: no server session is created,
    // read or written for it (a checkout step then costs no session statement).
    await site.register(shopRoutes, { deps });
    // Plugin shop pages (a provider's pay and return pages) too: their forms' CSRF secret is the
    // buyer's cookie's, so paying never creates or reads a server session.
    const shopPages = pluginRoutes.filter((r) => r.route.kind === 'shop');
    if (shopPages.length) await site.register(pluginRoutesPlugin, { ...pluginOpts, routes: shopPages });
    await site.register(async (panel) => {
      await panel.register(sessionPlugin, { dataSource: deps.dataSource, baseUrl: deps.config.baseUrl, sessionSecret: deps.config.sessionSecret });
      const dashboardNotices = noticePlugins.length === 0 ? undefined : dashboardNoticesSource({
        deps, contributors: noticePlugins, log: app.log, timeoutMs: deps.config.dashboardNoticeTimeoutMs,
        runtimeOf: (plugin, organizerId) => runtimes.runtime(plugin, { log: pluginLogger(app, plugin), enqueue: noticeEnqueue(deps, plugin, organizerId) }),
      });
      await panel.register(controlRoutes, { deps, dashboardNotices });
      await panel.register(apiRoutes, { deps });
      const pages = pluginRoutes.filter((r) => r.route.kind === 'control' || r.route.kind === 'api');
      if (pages.length) await panel.register(pluginRoutesPlugin, { ...pluginOpts, routes: pages });
    });
  });

  return app;
}

/** A plugin's logger on the app's, tagged with the plugin. */
function pluginLogger(app: FastifyInstance, plugin: string): PluginLogger {
  const logger = app.log.child({ plugin });
  return { info: (msg, data) => logger.info(data ?? {}, msg), warn: (msg, data) => logger.warn(data ?? {}, msg), error: (msg, data) => logger.error(data ?? {}, msg) };
}

const registeredRoutes = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route of an app built by buildApp, with its final config (a test checks that each declares its permission). */
export function routesOf(app: FastifyInstance): readonly RouteOptions[] {
  return registeredRoutes.get(app) ?? [];
}

/**
 * The origins every registered provider declares (Stripe.js and its frames, for instance), asked
 * once at boot with the provider's instance-wide (global) settings, where an alternative Stripe.js
 * or API origin (the embedded emulator) is configured. A provider that throws here is left out:
 * its checkout would then be blocked, visibly, rather than anything being silently allowed.
 */
async function providerCsp(deps: AppDeps): Promise<CspAdditions> {
  const parts: CspAdditions[] = [];
  for (const provider of deps.providers.list()) {
    try {
      const settings = await deps.settings.resolve(globalSettings, providerNamespace(provider.identifier)).catch(() => ({}));
      const ctx = { event: null, settings, clock: deps.clock, baseUrl: deps.config.baseUrl } as unknown as ProviderContext;
      parts.push(provider.contentSecurityPolicy(ctx));
    } catch {
      // Left out on purpose, see above.
    }
  }
  return mergeCsp(parts);
}
