import Fastify, { type FastifyInstance } from 'fastify';
import fastifyFormbody from '@fastify/formbody';
import { globalSettings, providerNamespace, type ProviderContext } from '@kassa/core';
import type { AppDeps } from './deps';
import { viewsPlugin } from './infra/views';
import { staticPlugin } from './infra/static';
import { errorHandlerPlugin } from './infra/error-handler';
import { mergeCsp, securityPlugin, type CspAdditions } from './infra/security';
import { shopRoutes } from './shop';
import { controlRoutes } from './control';
import { apiRoutes } from './api';
import { pluginRoutesPlugin } from './infra/plugin-routes';
import { LoginService } from './auth/login.service';

/**
 * Builds the Kassa HTTP app: infrastructure first (body parsers, views, static files, errors,
 * sessions, CSRF, security headers, rate limits), then the route groups, registered explicitly so
 * `grep` finds every route. Never listens: main.ts does, tests use `app.inject()`.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.config.logger ? { level: deps.config.logger.level } : false,
    trustProxy: deps.config.trustProxy ?? 'loopback, linklocal, uniquelocal',
    // Coercion lets form posts and query strings carry numbers; the first error is reported with its field.
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false } },
  });

  await app.register(fastifyFormbody);
  await app.register(viewsPlugin, { devTemplates: deps.config.devTemplates, pluginViews: deps.pluginViews });
  await app.register(staticPlugin);
  await app.register(errorHandlerPlugin);
  await app.register(securityPlugin, {
    dataSource: deps.dataSource,
    baseUrl: deps.config.baseUrl,
    sessionSecret: deps.config.sessionSecret,
    csp: await providerCsp(deps),
  });

  await app.register(shopRoutes, { deps });
  await app.register(controlRoutes, { deps });
  await app.register(apiRoutes, { deps });
  if (deps.pluginRoutes?.length) {
    await app.register(pluginRoutesPlugin, {
      deps, routes: deps.pluginRoutes, enqueue: deps.enqueuePluginJob,
      login: new LoginService(deps.dataSource, { logN: deps.config.passwordLogN }),
    });
  }

  return app;
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
