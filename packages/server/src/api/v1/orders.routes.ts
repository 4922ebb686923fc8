import type { FastifyPluginAsync } from 'fastify';
import { orderStates, type OrderStatus } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { visibleEvents } from '../../auth/permissions';
import { apiActor, principalOf } from '../principal';
import { eventJson, orderJson } from './representations';
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
    config: { permission: 'event.orders.view' },
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
    const result = await deps.core.orders.search({ organizerId, ...q, eventIds: visibleEvents(req, 'event.orders.view'), page: q.page ?? 1, pageSize: q.pageSize ?? 50 });
    const hasNext = result.page * result.pageSize < result.total;
    const params = new URLSearchParams(Object.entries({ ...q, page: result.page + 1 }).map(([k, v]) => [k, String(v)]));
    return {
      count: result.total, page: result.page, pageSize: result.pageSize,
      next: hasNext ? `${deps.config.baseUrl}/api/v1/orders?${params.toString()}` : null,
      results: result.items.map((o) => ({ ...o, id: o.orderId })),
    };
  });

  app.get<{ Params: { orderId: string } }>('/orders/:orderId', {
    config: { permission: 'event.orders.view' },
    schema: {
      summary: 'Retrieve an order with its positions, fees, payments and refunds',
      tags: ['orders'],
      params: { type: 'object', required: ['orderId'], properties: { orderId: uuidSchema } },
      response: { 200: { $ref: 'Order#' }, ...errorResponses },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    return orderJson(scope.reads, order, await deps.core.orders.getSummary(order.id), deps.providers, await deps.core.orders.paymentRefusal(order.id));
  });

  app.post<{ Params: { orderId: string }; Body: { force?: boolean } }>('/orders/:orderId/mark_paid', {
    config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Mark a pending or expired order as paid',
      tags: ['orders'],
      description: "pretix's mark_paid. What is still owed is booked as a confirmed manual payment; an order whose payments already cover it "
        + '(a late payment that found no quota, money after the last date of payments) is marked paid directly. Without `force` the rules of a late '
        + 'payment apply (quota, late payments, last date of payments) and a refusal answers 409 ORDER_MARK_PAID_REFUSED. With `force: true` '
        + 'they are skipped: the quota may be overbooked (the answer says `overbooked: true`, the order log records it).',
      params: { type: 'object', required: ['orderId'], properties: { orderId: uuidSchema } },
      body: { type: 'object', properties: { force: { type: 'boolean', default: false, description: 'Overbook the quota and ignore the last date of payments' } }, additionalProperties: false },
      response: {
        200: { type: 'object', properties: { overbooked: { type: 'boolean' }, paymentId: { type: ['string', 'null'] }, order: { $ref: 'Order#' } }, required: ['overbooked', 'paymentId', 'order'] },
        ...errorResponses,
      },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const result = await deps.core.orders.markPaid(order.id, { force: req.body?.force === true, actor: apiActor(req) });
    return {
      overbooked: result.overbooked, paymentId: result.payment?.id ?? null,
      order: await orderJson(scope.reads, result.order, result.summary, deps.providers, await deps.core.orders.paymentRefusal(order.id)),
    };
  });

  app.get<{ Params: { eventId: string } }>('/events/:eventId', {
    config: { permission: 'member' },
    schema: {
      summary: 'Retrieve an event with its payment terms', tags: ['events'],
      params: { type: 'object', required: ['eventId'], properties: { eventId: uuidSchema } },
      response: { 200: { $ref: 'Event#' }, ...errorResponses },
    },
  }, async (req) => eventJson(await scope.event(principalOf(req).organizerId, req.params.eventId)));
};
