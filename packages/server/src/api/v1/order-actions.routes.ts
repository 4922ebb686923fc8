import type { FastifyPluginAsync } from 'fastify';
import { KassaError, MANUAL_PROVIDER, money } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { apiActor, principalOf } from '../principal';
import { orderJson, paymentJson, refundJson } from './representations';
import { errorResponses, uuidSchema } from './schemas';

const orderParams = { type: 'object', required: ['orderId'], properties: { orderId: uuidSchema } } as const;
const emptyBody = { type: 'object', properties: {}, additionalProperties: false } as const;
const minor = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Minor units of the order currency' } as const;

interface CreatePaymentBody { provider: string; amount?: number; confirm?: boolean; force?: boolean }
interface CancelBody { cancellationFee?: number; autoRefund?: boolean; sendEmail?: boolean }

/**
 * pretix's order actions that were missing: create a payment, mark pending, mark expired,
 * cancel (mark_canceled) and extend. Each is one core service call under the order lock; the
 * machine refuses a state it has no edge for (409 STATE_TRANSITION_NOT_ALLOWED).
 */
export const orderActionApiRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  app.post<{ Params: { orderId: string }; Body: CreatePaymentBody }>('/orders/:orderId/payments', { config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Create a payment on an order', tags: ['payments'],
      description: "pretix's payment creation. A new attempt of `provider` for `amount` (default: what is still owed), in state `created`. "
        + 'The same rules as a buyer\'s payment apply (order payable, last date of payments, quota for an expired order) unless `force` is set. '
        + 'With `confirm: true` a payment of the manual provider is booked as received at once (the answer\'s `result` says what happened to the order); '
        + 'other providers confirm their own payments, so `confirm` is refused for them (400 naming `confirm`). Not idempotent: each call creates an attempt.',
      params: orderParams,
      body: {
        type: 'object', required: ['provider'], additionalProperties: false,
        properties: {
          provider: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_.-]*$' },
          amount: { ...minor, minimum: 1 },
          confirm: { type: 'boolean', default: false, description: 'Manual provider only: the money has arrived' },
          force: { type: 'boolean', default: false, description: 'Skip the payability rules (late payments, last date, quota)' },
        },
      },
      response: {
        201: { type: 'object', properties: { payment: { $ref: 'Payment#' }, result: { type: ['string', 'null'], description: 'With confirm: order_paid, partially_paid, order_unchanged' } }, required: ['payment', 'result'] },
        ...errorResponses,
      },
    },
  }, async (req, reply) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const { provider, amount, confirm, force } = req.body;
    if (!deps.providers.has(provider)) throw new KassaError('VALIDATION_FAILED', { field: 'provider', in: 'body', detail: `body.provider: no payment provider "${provider}"` });
    if (confirm && provider !== MANUAL_PROVIDER) {
      throw new KassaError('VALIDATION_FAILED', { field: 'confirm', in: 'body', detail: `body.confirm: provider ${provider} confirms its own payments` });
    }
    const actor = apiActor(req);
    const payment = await deps.core.payments.createPayment(order.id, {
      provider, amount: amount === undefined ? undefined : money(amount, order.currency), actor, force: force === true,
    });
    if (!confirm) return reply.code(201).send({ payment: paymentJson(order, payment, deps.providers), result: null });
    const result = await deps.core.payments.manualConfirm(payment.id, { actor, force: force === true });
    if (result.kind === 'quota_exceeded') {
      throw new KassaError('PAYMENT_CONFIRMED_QUOTA_EXCEEDED', { payment: payment.id, code: order.code, reason: result.reason, paymentState: result.payment.state });
    }
    return reply.code(201).send({ payment: paymentJson(order, result.payment, deps.providers), result: result.kind });
  });

  app.post<{ Params: { orderId: string } }>('/orders/:orderId/mark_pending', { config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Mark a paid order as unpaid', tags: ['orders'],
      description: "pretix's mark_pending: the order goes back to pending (its payments are left as they are; a passed deadline is renewed). Only paid orders.",
      params: orderParams, body: emptyBody,
      response: { 200: { $ref: 'Order#' }, ...errorResponses },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const updated = await deps.core.orders.markPending(order.id, apiActor(req));
    return orderJson(scope.reads, updated, await deps.core.orders.getSummary(order.id), deps.providers, await deps.core.orders.paymentRefusal(order.id));
  });

  app.post<{ Params: { orderId: string } }>('/orders/:orderId/mark_expired', { config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Expire a pending order now', tags: ['orders'],
      description: "pretix's mark_expired: a pending order expires before its deadline and releases its quota. A late payment may still revive it while quota allows.",
      params: orderParams, body: emptyBody,
      response: { 200: { $ref: 'Order#' }, ...errorResponses },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const updated = await deps.core.orders.markExpired(order.id, apiActor(req));
    return orderJson(scope.reads, updated, await deps.core.orders.getSummary(order.id), deps.providers, await deps.core.orders.paymentRefusal(order.id));
  });

  app.post<{ Params: { orderId: string }; Body: CancelBody }>('/orders/:orderId/mark_canceled', { config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Cancel an order', tags: ['orders'],
      description: "pretix's mark_canceled. Open payments are canceled through their providers first. With `cancellationFee` (minor units, at most the total) "
        + 'the order keeps only that fee and stays paid (or pending while the fee is not covered). With `autoRefund: true` what is owed back is refunded '
        + 'through the providers that support it; the rest is reported as `refundRequested` (also in the order log). `sendEmail: false` cancels without the buyer\'s email.',
      params: orderParams,
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          cancellationFee: minor,
          autoRefund: { type: 'boolean', default: false },
          sendEmail: { type: 'boolean', default: true },
        },
      },
      response: {
        200: {
          type: 'object', required: ['order', 'refunds', 'refundRequested'],
          properties: {
            order: { $ref: 'Order#' },
            refunds: { type: 'array', items: { $ref: 'Refund#' }, description: 'Refunds started by autoRefund' },
            refundRequested: { type: 'integer', description: 'Owed back but not refunded automatically (minor units)' },
            paymentCancelFailures: { type: 'array', items: { type: 'object', properties: { paymentId: uuidSchema, error: { type: 'string' } } } },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const body = req.body ?? {};
    // Core refuses it too (under the lock); checked here first so that the answer names the field.
    if (body.cancellationFee !== undefined && body.cancellationFee > order.total) {
      throw new KassaError('ORDER_CANCELLATION_FEE_TOO_HIGH', { fee: body.cancellationFee, total: order.total, field: 'cancellationFee', in: 'body' });
    }
    const result = await deps.core.orders.cancelOrder(order.id, {
      cancellationFee: body.cancellationFee === undefined ? undefined : money(body.cancellationFee, order.currency),
      autoRefund: body.autoRefund === true, notifyBuyer: body.sendEmail !== false, actor: apiActor(req),
    });
    return {
      order: await orderJson(scope.reads, result.order, result.summary, deps.providers),
      refunds: result.refunds.map((r) => refundJson(order, r.refund)),
      refundRequested: result.refundRequested,
      paymentCancelFailures: result.paymentCancelFailures,
    };
  });

  app.post<{ Params: { orderId: string }; Body: { expires: string; force?: boolean } }>('/orders/:orderId/extend', { config: { permission: 'event.orders.change' },
    schema: {
      summary: 'Extend the payment deadline', tags: ['orders'],
      description: "pretix's extend: a new deadline for a pending or expired order. An expired order comes back to pending only while quota allows, unless `force` is set. "
        + 'A date without a time means the end of that day (UTC).',
      params: orderParams,
      body: {
        type: 'object', required: ['expires'], additionalProperties: false,
        properties: {
          expires: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }], description: 'The new deadline, e.g. 2027-01-31 or 2027-01-31T18:00:00Z' },
          force: { type: 'boolean', default: false, description: 'Revive an expired order even without quota' },
        },
      },
      response: { 200: { $ref: 'Order#' }, ...errorResponses },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const raw = req.body.expires;
    const expires = new Date(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T23:59:59.999Z` : raw);
    if (Number.isNaN(expires.getTime())) throw new KassaError('VALIDATION_FAILED', { field: 'expires', in: 'body', detail: 'body.expires must be a date or date-time' });
    if (expires <= deps.clock.now()) throw new KassaError('VALIDATION_FAILED', { field: 'expires', in: 'body', detail: 'body.expires must lie in the future' });
    await deps.core.orders.extendOrder(order.id, expires, { force: req.body.force === true, actor: apiActor(req) });
    const updated = await scope.order(order.organizerId, order.id);
    return orderJson(scope.reads, updated, await deps.core.orders.getSummary(order.id), deps.providers, await deps.core.orders.paymentRefusal(order.id));
  });
};
