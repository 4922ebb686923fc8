import type { FastifyPluginAsync } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { coreVersion } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { authenticateApiToken } from '../auth/api-token';
import { checkTokenPermission, declaredPermissions } from '../auth/permissions';
import { OrganizerScope } from '../auth/scope';
import { limiter, rateLimits } from '../infra/rate-limits';
import { errorBody, eventSchema, orderListItemSchema, orderSchema, paymentSchema, productSchema, quotaSchema, refundSchema } from './v1/schemas';
import { orderApiRoutes } from './v1/orders.routes';
import { orderChangeApiRoutes } from './v1/order-change.routes';
import { paymentApiRoutes } from './v1/payments.routes';
import { refundApiRoutes } from './v1/refunds.routes';
import { orderActionApiRoutes } from './v1/order-actions.routes';
import { catalogApiRoutes } from './v1/catalog.routes';
import { webhookApiRoutes, webhookDeliverySchema, webhookSchema } from './v1/webhooks.routes';
import { logEntrySchema, orderLogApiRoutes } from './v1/order-log.routes';
import { registerIdempotency } from './idempotency';
import { exportApiRoutes } from './v1/exports.routes';
import { dashboardApiRoutes } from './v1/dashboard.routes';
import { taskSchema } from '../bulk/task-json';
import { chartSchema } from '../bulk/dashboard-data';

/**
 * The REST API: /api/v1 (Bearer tokens per organizer, no cookies, so no CSRF) and its OpenAPI
 * document at /api/docs (UI) and /api/docs/json (served by swagger-ui, or by the fallback). Only routes registered in this context are
 * documented.
 */
export const apiRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), csrf: false };
    // The OpenAPI document says which token permission each operation needs (docs/api.md).
    const needed = declaredPermissions(route.config);
    if (route.schema && needed && !needed.includes('public')) {
      const on = route.config.permissionOnAllEvents ? ' on all events' : '';
      const text = needed.includes('member') ? 'Token permission: any.' : `Token permission: ${needed.map((p) => `\`${p}\``).join(' or ')}${on}.`;
      route.schema = { ...route.schema, description: route.schema.description ? `${route.schema.description}\n\n${text}` : text };
    }
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Kassa REST API',
        version: `1 (core ${coreVersion})`,
        description: 'Orders, payments and refunds of one organizer. Amounts are integers in minor units of the order currency. Every error has the body `{ "error": { "code", "message", "params" } }` with a catalogued code. Rate limits: 300 requests a minute per token and 600 per client address; over them, `429 RATE_LIMITED` with `Retry-After` in seconds.',
      },
      servers: [{ url: deps.config.baseUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token created in the control panel (Control → API tokens). It holds the team permissions chosen there, on all events or on chosen ones; each operation names the one it needs, and a route outside them answers 404.' } } },
      security: [{ bearer: [] }],
      tags: [{ name: 'orders' }, { name: 'payments' }, { name: 'refunds' }, { name: 'events' }, { name: 'webhooks' }, { name: 'log' }, { name: 'exports' }, { name: 'shredder' }, { name: 'dashboard' }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  for (const schema of [errorBody, paymentSchema, refundSchema, orderListItemSchema, orderSchema, eventSchema, productSchema, quotaSchema, webhookSchema, webhookDeliverySchema, logEntrySchema]) app.addSchema(schema);
  for (const schema of [taskSchema, chartSchema]) app.addSchema(schema);

  await app.register(async (v1) => {
    const scope = new OrganizerScope(deps.dataSource);
    // JSON bodies are validated as sent: "7.00" is not the integer 7 (the HTML forms' coercion would
    // make it one). Query strings and path parameters are text by nature and keep coercion.
    const bodyAjv = withFormats(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false }));
    const textAjv = withFormats(new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: false }));
    v1.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
    // Per address before the token is looked at (floods, guessed tokens), then per token (docs/api.md).
    v1.addHook('onRequest', limiter(v1, 'api-address', deps.config.rateLimits?.apiAddress ?? rateLimits.apiAddress, (req) => req.ip));
    v1.addHook('onRequest', async (req) => {
      req.apiPrincipal = await authenticateApiToken(deps.dataSource, req.headers.authorization);
    });
    v1.addHook('onRequest', limiter(v1, 'api-token', deps.config.rateLimits?.api ?? rateLimits.api, (req) => req.apiPrincipal!.tokenId));
    // Every API route declares its permission like the control panel's; the token must hold it
    // (on the event the request acts on), else 404 as for a missing object (auth/permissions.ts).
    v1.addHook('onRequest', async (req) => checkTokenPermission(req, req.apiPrincipal!, scope));
    registerIdempotency(v1, deps);
    await v1.register(orderApiRoutes, { deps, scope });
    await v1.register(orderChangeApiRoutes, { deps, scope });
    await v1.register(paymentApiRoutes, { deps, scope });
    await v1.register(refundApiRoutes, { deps, scope });
    await v1.register(orderActionApiRoutes, { deps, scope });
    await v1.register(catalogApiRoutes, { deps, scope });
    await v1.register(webhookApiRoutes, { deps });
    await v1.register(orderLogApiRoutes, { deps, scope });
    await v1.register(exportApiRoutes, { deps, scope });
    await v1.register(dashboardApiRoutes, { deps });
  }, { prefix: '/api/v1' });

  // The OpenAPI document next to the API it describes, readable without a token (it holds no data).
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { permission: 'public' } }, async () => app.swagger());

  await registerDocsUi(app);
};

function withFormats(ajv: Ajv): Ajv {
  addFormats(ajv);
  return ajv;
}

/**
 * Swagger UI at /api/docs. It is loaded lazily: @fastify/swagger-ui pulls in @fastify/static and
 * an ESM-only dependency that Jest on Node 20 cannot require; without the UI, /api/docs answers a
 * small page linking the JSON document, so the document itself is always reachable.
 */
async function registerDocsUi(app: Parameters<FastifyPluginAsync>[0]): Promise<void> {
  try {
    // Plugin loading is deferred by fastify, so probe the problematic dependency here, where a failure can be caught.
    await import('@fastify/static');
    const { default: swaggerUi } = await import('@fastify/swagger-ui');
    await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true, uiConfig: { docExpansion: 'list', deepLinking: false } });
  } catch (err) {
    app.log.warn({ err }, 'Swagger UI unavailable; serving the OpenAPI JSON only');
    app.get('/api/docs/json', { schema: { hide: true } }, async () => app.swagger());
    app.get('/api/docs', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<!doctype html><title>Kassa API</title><p>OpenAPI document: <a href="/api/docs/json">/api/docs/json</a></p>'));
  }
}
