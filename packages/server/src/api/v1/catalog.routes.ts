import type { FastifyPluginAsync } from 'fastify';
import { CatalogStore, KassaError, type Product, type Quota } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { tokenVisibleEvents } from '../../auth/permissions';
import { principalOf } from '../principal';
import { eventJson } from './representations';
import { errorResponses, pageOf, uuidSchema } from './schemas';

const eventParams = { type: 'object', required: ['eventId'], properties: { eventId: uuidSchema } } as const;

function productJson(p: Product) {
  return { id: p.id, eventId: p.eventId, name: p.name, price: p.price, active: p.active, position: p.position };
}

function quotaJson(q: Quota, used: number | null) {
  return {
    id: q.id, eventId: q.eventId, name: q.name, size: q.size, products: (q.products ?? []).map((p) => p.id),
    used, available: q.size === null || used === null ? null : Math.max(0, q.size - used),
  };
}

/** Events, products and quotas of the token's organizer (pretix's /events/, /items/, /quotas/), read-only. */
export const catalogApiRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  const catalog = new CatalogStore(deps.dataSource);

  app.get<{ Querystring: { page?: number; pageSize?: number } }>('/events', { config: { permission: 'member' },
    schema: {
      summary: 'List events', tags: ['events'],
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { page: { type: 'integer', minimum: 1, default: 1 }, pageSize: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
      },
      response: { 200: pageOf('Event'), ...errorResponses },
    },
  }, async (req) => {
    const page = req.query.page ?? 1;
    const pageSize = req.query.pageSize ?? 50;
    const token = principalOf(req);
    const { items, total } = await catalog.pageEvents(token.organizerId, page, pageSize, tokenVisibleEvents(token));
    const next = page * pageSize < total ? `${deps.config.baseUrl}/api/v1/events?page=${page + 1}&pageSize=${pageSize}` : null;
    return { count: total, page, pageSize, next, results: items.map(eventJson) };
  });

  app.get<{ Params: { eventId: string } }>('/events/:eventId/products', { config: { permission: 'member' },
    schema: {
      summary: "List an event's products", tags: ['events'], params: eventParams,
      response: { 200: { type: 'object', properties: { results: { type: 'array', items: { $ref: 'Product#' } } }, required: ['results'] }, ...errorResponses },
    },
  }, async (req) => {
    const event = await scope.event(principalOf(req).organizerId, req.params.eventId);
    return { results: (await catalog.listProducts(event.organizerId, event.id)).map(productJson) };
  });

  app.get<{ Params: { eventId: string; productId: string } }>('/events/:eventId/products/:productId', { config: { permission: 'member' },
    schema: {
      summary: 'Retrieve a product', tags: ['events'],
      params: { type: 'object', required: ['eventId', 'productId'], properties: { eventId: uuidSchema, productId: uuidSchema } },
      response: { 200: { $ref: 'Product#' }, ...errorResponses },
    },
  }, async (req) => {
    const product = await catalog.product(principalOf(req).organizerId, req.params.eventId, req.params.productId);
    if (!product) throw new KassaError('NOT_FOUND', { entity: 'Product' });
    return productJson(product);
  });

  app.get<{ Params: { eventId: string } }>('/events/:eventId/quotas', { config: { permission: 'member' },
    schema: {
      summary: "List an event's quotas with their use", tags: ['events'], params: eventParams,
      response: { 200: { type: 'object', properties: { results: { type: 'array', items: { $ref: 'Quota#' } } }, required: ['results'] }, ...errorResponses },
    },
  }, async (req) => {
    const event = await scope.event(principalOf(req).organizerId, req.params.eventId);
    return { results: (await catalog.listQuotas(event.organizerId, event.id)).map((q) => quotaJson(q, q.used)) };
  });

  app.get<{ Params: { eventId: string; quotaId: string } }>('/events/:eventId/quotas/:quotaId', { config: { permission: 'member' },
    schema: {
      summary: 'Retrieve a quota with its use', tags: ['events'],
      params: { type: 'object', required: ['eventId', 'quotaId'], properties: { eventId: uuidSchema, quotaId: uuidSchema } },
      response: { 200: { $ref: 'Quota#' }, ...errorResponses },
    },
  }, async (req) => {
    const { organizerId } = principalOf(req);
    const quota = await catalog.quota(organizerId, req.params.eventId, req.params.quotaId);
    if (!quota) throw new KassaError('NOT_FOUND', { entity: 'Quota' });
    // The list computes the use of all quotas of the event in one query; one quota is one of them.
    const used = (await catalog.listQuotas(organizerId, req.params.eventId)).find((q) => q.id === quota.id)?.used ?? 0;
    return quotaJson(quota, used);
  });
};
