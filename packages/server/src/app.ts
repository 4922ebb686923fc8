import Fastify, { type FastifyInstance } from 'fastify';
import fastifyFormbody from '@fastify/formbody';
import type { AppDeps } from './deps';
import { viewsPlugin } from './infra/views';
import { staticPlugin } from './infra/static';
import { errorHandlerPlugin } from './infra/error-handler';
import { shopRoutes } from './shop';

/**
 * Builds the Kassa HTTP app: infrastructure first (body parsers, views, static files, errors),
 * then the route groups, registered explicitly so `grep` finds every route. Never listens:
 * main.ts does, tests use `app.inject()`.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.config.logger ?? false,
    trustProxy: true,
    // Route schemas report every problem's field; coercion lets form posts and query strings carry numbers/booleans.
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false } },
  });

  await app.register(fastifyFormbody);
  await app.register(viewsPlugin, { devTemplates: deps.config.devTemplates });
  await app.register(staticPlugin);
  await app.register(errorHandlerPlugin);

  await app.register(shopRoutes, { deps });

  return app;
}
