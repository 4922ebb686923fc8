import type { FastifyPluginAsync } from 'fastify';
import { KassaError, refundOrderActions, type RefundOrderAction } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { apiActor, principalOf } from '../principal';
import { refundJson } from './representations';
import { errorResponses, uuidSchema } from './schemas';

const orderParams = { type: 'object', required: ['orderId'], properties: { orderId: uuidSchema } } as const;

interface CreateBody {
  paymentId: string;
  amount: number;
  comment?: string;
  manual?: boolean;
  orderAction?: RefundOrderAction;
}

/** Refunds of an order: list, create (automatic through the provider, or manual), process an external one. */
export const refundApiRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  app.get<{ Params: { orderId: string } }>('/orders/:orderId/refunds', {
    config: { permission: 'event.orders.view' },
    schema: {
      summary: "List an order's refunds", tags: ['refunds'], params: orderParams,
      response: { 200: { type: 'object', properties: { results: { type: 'array', items: { $ref: 'Refund#' } } } }, ...errorResponses },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const refunds = await scope.reads.refunds(order.organizerId, order.id);
    return { results: refunds.map((r) => refundJson(order, r)) };
  });

  app.post<{ Params: { orderId: string }; Body: CreateBody }>('/orders/:orderId/refunds', {
    config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Refund (part of) a confirmed payment', tags: ['refunds'],
      description: 'Automatic through the payment\'s provider when it supports refunds; with `manual: true` the refund is only booked and you pay it out yourself. '
        + 'A refund counts as refunded money from the moment it is created. `orderAction` decides what happens to the order once the refund counts '
        + '(pretix\'s refund choices): `pending` (default) sets a paid order that is now owed money back to pending with a new payment deadline; '
        + '`keep_paid` keeps it paid, and is refused (400 REFUND_ORDER_ACTION_INVALID, nothing refunded) when money would be owed; `cancel` cancels the order. '
        + 'A refund that leaves nothing owed never reopens the order. When the provider refuses the refund, the answer is 400 REFUND_PROVIDER_REFUSED with its reason; the refund is kept as a failed attempt (`params.refundId`) and the order is unchanged.',
      params: orderParams,
      body: {
        type: 'object',
        required: ['paymentId', 'amount'],
        properties: {
          paymentId: uuidSchema,
          amount: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Minor units of the order currency' },
          comment: { type: 'string', maxLength: 1000 },
          manual: { type: 'boolean', default: false },
          orderAction: { type: 'string', enum: [...refundOrderActions], default: 'pending', description: 'What happens to the order once the refund counts' },
        },
        additionalProperties: false,
      },
      response: {
        201: { type: 'object', properties: { refund: { $ref: 'Refund#' }, outcome: { type: ['string', 'null'] }, orderStatus: { type: ['string', 'null'], description: 'The order status after the refund and its orderAction' } } },
        ...errorResponses,
      },
    },
  }, async (req, reply) => {
    const { organizerId } = principalOf(req);
    const order = await scope.order(organizerId, req.params.orderId);
    const { payment } = await scope.payment(organizerId, req.body.paymentId);
    if (payment.orderId !== order.id) throw new KassaError('NOT_FOUND', { entity: 'Payment' });
    const { refund, outcome, orderStatus } = await deps.core.refunds.createRefund(order.id, {
      paymentId: payment.id, amount: { amount: req.body.amount, currency: order.currency }, source: 'admin',
      comment: req.body.comment, provider: req.body.manual ? 'manual' : undefined, orderAction: req.body.orderAction, actor: apiActor(req),
    });
    // As pretix's API: the gateway's refusal is the client's answer; the attempt stays on record as failed.
    if (outcome?.kind === 'failed') {
      throw new KassaError('REFUND_PROVIDER_REFUSED', {
        provider: refund.provider, refund: refundJson(order, refund).fullId, refundId: refund.id, reason: outcome.message, state: refund.state,
      });
    }
    return reply.code(201).send({ refund: refundJson(order, refund), outcome: outcome?.kind ?? null, orderStatus: orderStatus ?? null });
  });

  app.post<{ Params: { orderId: string; refundId: string }; Body: { action: 'cancel' | 'pending' } }>('/orders/:orderId/refunds/:refundId/process', {
    config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Decide an external refund', tags: ['refunds'],
      description: 'Accept a refund made outside Kassa (provider dashboard, lost dispute): cancel the order, or set it back to pending.',
      params: { type: 'object', required: ['orderId', 'refundId'], properties: { orderId: uuidSchema, refundId: uuidSchema } },
      body: { type: 'object', required: ['action'], properties: { action: { type: 'string', enum: ['cancel', 'pending'] } }, additionalProperties: false },
      response: { 200: { $ref: 'Refund#' }, ...errorResponses },
    },
  }, async (req) => {
    const { organizerId } = principalOf(req);
    const order = await scope.order(organizerId, req.params.orderId);
    const { refund } = await scope.refund(organizerId, req.params.refundId);
    if (refund.orderId !== order.id) throw new KassaError('NOT_FOUND', { entity: 'Refund' });
    return refundJson(order, await deps.core.refunds.processExternalRefund(refund.id, { action: req.body.action, actor: apiActor(req) }));
  });
};
