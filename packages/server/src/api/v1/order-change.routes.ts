import type { FastifyPluginAsync } from 'fastify';
import type { OrderChangeOperation } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { apiActor, principalOf } from '../principal';
import { orderJson } from './representations';
import { errorResponses, uuidSchema } from './schemas';

const price = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Minor units of the order currency' } as const;

interface ChangeBody {
  patchPositions?: { position: string; body: { price?: number; productId?: string } }[];
  cancelPositions?: { position: string }[];
  createPositions?: { productId: string; price?: number; attendeeName?: string | null }[];
}

/**
 * POST /api/v1/orders/:orderId/change, after pretix's order change endpoint (patch, cancel and
 * create positions in one call). One call is one change in core: all of it within quota, or
 * nothing (the error says which operation). The buyer gets the "order changed" email.
 */
export const orderChangeApiRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  app.post<{ Params: { orderId: string }; Body: ChangeBody }>('/orders/:orderId/change', {
    config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Change an order: patch, cancel and add positions', tags: ['orders'],
      description: 'Applied together under the order lock and within quota, or not at all. The total, the open payment fee and the paid state follow: '
        + 'a paid order whose total grows becomes pending with a new payment deadline; one whose total shrinks stays paid and is overpaid (`summary.pendingSum` < 0: refund it). '
        + 'A patch with `productId` moves the position to that product, at its price unless `price` is given.',
      params: { type: 'object', required: ['orderId'], properties: { orderId: uuidSchema } },
      body: {
        type: 'object',
        properties: {
          patchPositions: {
            type: 'array', maxItems: 50,
            items: {
              type: 'object', required: ['position', 'body'], additionalProperties: false,
              properties: {
                position: uuidSchema,
                body: { type: 'object', minProperties: 1, additionalProperties: false, properties: { price, productId: uuidSchema } },
              },
            },
          },
          cancelPositions: { type: 'array', maxItems: 50, items: { type: 'object', required: ['position'], additionalProperties: false, properties: { position: uuidSchema } } },
          createPositions: {
            type: 'array', maxItems: 50,
            items: {
              type: 'object', required: ['productId'], additionalProperties: false,
              properties: { productId: uuidSchema, price, attendeeName: { type: ['string', 'null'], maxLength: 200 } },
            },
          },
        },
        additionalProperties: false,
      },
      response: {
        200: {
          type: 'object',
          properties: {
            previousTotal: { type: 'integer' },
            previousStatus: { type: 'string' },
            canceledPayments: { type: 'array', items: uuidSchema, description: 'Open payments for the old amount, canceled' },
            order: { $ref: 'Order#' },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const body = req.body ?? {};
    const operations: OrderChangeOperation[] = [
      ...(body.cancelPositions ?? []).map((c): OrderChangeOperation => ({ kind: 'cancel_position', positionId: c.position })),
      ...(body.patchPositions ?? []).map((p): OrderChangeOperation => (p.body.productId
        ? { kind: 'change_product', positionId: p.position, productId: p.body.productId, price: p.body.price }
        : { kind: 'change_price', positionId: p.position, price: p.body.price as number })),
      ...(body.createPositions ?? []).map((c): OrderChangeOperation => ({ kind: 'add_position', productId: c.productId, price: c.price, attendeeName: c.attendeeName ?? null })),
    ];
    const result = await deps.core.orders.changeOrder(order.id, { operations, actor: apiActor(req) });
    return {
      previousTotal: result.previousTotal, previousStatus: result.previousStatus, canceledPayments: result.canceledPayments,
      order: await orderJson(scope.reads, result.order, result.summary, deps.providers),
    };
  });
};
