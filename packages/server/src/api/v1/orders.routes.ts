import type { FastifyPluginAsync } from 'fastify';
import { orderStates, type OrderStatus } from '@kassa/core';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { principalOf } from '../principal';
import { orderJson } from './representations';
import { errorResponses, pageOf, uuidSchema } from './schemas';

interface ListQuery {
  status?: OrderStatus;
  provider?: string;
  eventId?: string;
  q?: string;
  overpaid?: boolean;
  pendingRefund?: boolean;
  externalRefund?: boolean;
  page?: number;
  pageSize?: number;
}

/** GET /api/v1/orders (filtered, paginated) and GET /api/v1/orders/:orderId. */
export const orderApiRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  app.get<{ Querystring: ListQuery }>('/orders', {
    schema: {
      summary: 'List orders',
      tags: ['orders'],
      querystring: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: [...orderStates] },
          provider: { type: 'string', maxLength: 64 },
          eventId: uuidSchema,
          q: { type: 'string', maxLength: 200, description: 'Order code prefix or part of the email' },
          overpaid: { type: 'boolean' },
          pendingRefund: { type: 'boolean' },
          externalRefund: { type: 'boolean', description: 'External refunds waiting for a decision' },
          page: { type: 'integer', minimum: 1, default: 1 },
          pageSize: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
        },
        additionalProperties: false,
      },
      response: { 200: pageOf('OrderListItem'), ...errorResponses },
    },
  }, async (req) => {
    const { organizerId } = principalOf(req);
    const q = req.query;
    const result = await deps.core.orders.search({ organizerId, ...q, page: q.page ?? 1, pageSize: q.pageSize ?? 50 });
    const hasNext = result.page * result.pageSize < result.total;
    const params = new URLSearchParams(Object.entries({ ...q, page: result.page + 1 }).map(([k, v]) => [k, String(v)]));
    return {
      count: result.total, page: result.page, pageSize: result.pageSize,
      next: hasNext ? `${deps.config.baseUrl}/api/v1/orders?${params.toString()}` : null,
      results: result.items.map((o) => ({ ...o, id: o.orderId })),
    };
  });

  app.get<{ Params: { orderId: string } }>('/orders/:orderId', {
    schema: {
      summary: 'Retrieve an order with its positions, fees, payments and refunds',
      tags: ['orders'],
      params: { type: 'object', required: ['orderId'], properties: { orderId: uuidSchema } },
      response: { 200: { $ref: 'Order#' }, ...errorResponses },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    return orderJson(deps.dataSource, order, await deps.core.orders.getSummary(order.id), deps.providers);
  });
};
