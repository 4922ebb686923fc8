import type { FastifyPluginAsync } from 'fastify';
import { KassaError, paymentMachine } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { apiActor, principalOf } from '../principal';
import { paymentJson } from './representations';
import { errorResponses, uuidSchema } from './schemas';

const paymentParams = { type: 'object', required: ['orderId', 'paymentId'], properties: { orderId: uuidSchema, paymentId: uuidSchema } } as const;
const emptyBody = { type: 'object', properties: {}, additionalProperties: false } as const;

/** Payments of an order: list, confirm a manual one, cancel. */
export const paymentApiRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  /** The payment, if it belongs to this order of this organizer; otherwise NOT_FOUND. */
  const load = async (organizerId: string, orderId: string, paymentId: string) => {
    const order = await scope.order(organizerId, orderId);
    const { payment } = await scope.payment(organizerId, paymentId);
    if (payment.orderId !== order.id) throw new KassaError('NOT_FOUND', { entity: 'Payment' });
    return { order, payment };
  };

  app.get<{ Params: { orderId: string } }>('/orders/:orderId/payments', {
    config: { permission: 'event.orders.view' },
    schema: {
      summary: "List an order's payments", tags: ['payments'],
      params: { type: 'object', required: ['orderId'], properties: { orderId: uuidSchema } },
      response: { 200: { type: 'object', properties: { results: { type: 'array', items: { $ref: 'Payment#' } } } }, ...errorResponses },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const payments = await scope.reads.payments(order.organizerId, order.id);
    return { results: payments.map((p) => paymentJson(order, p, deps.providers)) };
  });

  app.post<{ Params: { orderId: string; paymentId: string }; Body: { force?: boolean } }>('/orders/:orderId/payments/:paymentId/confirm', {
    config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Confirm a manual payment (money received)', tags: ['payments'],
      description: 'Only payments of the manual provider in state created or pending. Idempotent: confirming a confirmed payment answers 200 with `result: already_confirmed`, also when several confirmations arrive at once (one confirms, the others answer already_confirmed). When the payment covers an expired order that cannot be revived (quota gone, late payments off), the payment stays confirmed, the order stays expired and flagged, and the answer is 409 PAYMENT_CONFIRMED_QUOTA_EXCEEDED; send `force: true` to overbook.',
      params: paymentParams,
      body: { type: 'object', properties: { force: { type: 'boolean', description: 'Revive an expired order even without quota' } }, additionalProperties: false },
      response: { 200: { type: 'object', properties: { result: { type: 'string' }, payment: { $ref: 'Payment#' } } }, ...errorResponses },
    },
  }, async (req) => {
    const { order, payment } = await load(principalOf(req).organizerId, req.params.orderId, req.params.paymentId);
    if (payment.provider !== 'manual') {
      throw new KassaError('PAYMENT_CONFIRM_NOT_ALLOWED', { id: payment.id, state: `${payment.state} (provider ${payment.provider} confirms its own payments)` });
    }
    // A repeated call (a client retrying after a timeout) is answered, not refused.
    if (paymentMachine.is('confirmed', payment.state)) return { result: 'already_confirmed', payment: paymentJson(order, payment, deps.providers) };
    const result = await deps.core.payments.manualConfirm(payment.id, { actor: apiActor(req), force: req.body?.force });
    // As pretix's API: the money is kept, but "mark paid" did not happen, so the client is told so.
    if (result.kind === 'quota_exceeded') {
      throw new KassaError('PAYMENT_CONFIRMED_QUOTA_EXCEEDED', { payment: payment.id, code: order.code, reason: result.reason, paymentState: result.payment.state });
    }
    return { result: result.kind, payment: paymentJson(order, result.payment, deps.providers) };
  });

  app.post<{ Params: { orderId: string; paymentId: string } }>('/orders/:orderId/payments/:paymentId/cancel', {
    config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Cancel an open payment', tags: ['payments'],
      params: paymentParams,
      body: emptyBody,
      response: { 200: { $ref: 'Payment#' }, ...errorResponses },
    },
  }, async (req) => {
    const { order, payment } = await load(principalOf(req).organizerId, req.params.orderId, req.params.paymentId);
    const canceled = await deps.core.payments.cancelPayment(payment.id, apiActor(req));
    return paymentJson(order, canceled, deps.providers);
  });
};
