import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  KassaError, isKassaError, orderMachine, parseMoney, paymentMachine, refundMachine, refundOrderActions, type Order, type OrderRefund, type RefundOrderAction,
} from '@kassa/core/host';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { toDecimalInput } from '../infra/format';
import { actionKeyProperty, installActionGuard } from '../infra/action-guard';
import { loadOrderDetail, type PaymentRow } from './order-detail';
import { actorOf, fieldErrors, formRefusal, idParams, redirectWithFlash, renderPage, userOf } from './page';

// Every action below moves money or changes an order: `guarded` makes its form carry the page's
// one-time key (infra/action-guard.ts), so a double click or a replayed form acts once.
const guarded = { actionKey: true } as const;
/** The one permission every action here needs (auth/permissions.ts), with the action key. */
const changeOrders = { ...guarded, permission: 'event.orders.change' } as const;
const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' }, ...actionKeyProperty }, additionalProperties: false } as const;
/** What a refund form was built from: the order's newest refund ('' for none), as pretix's last_known_refund_id. */
const lastKnownRefundId = { type: 'string', pattern: `^(${'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'})?$` } as const;
const retryBody = {
  type: 'object', required: ['lastKnownRefundId'],
  properties: { _csrf: { type: 'string' }, ...actionKeyProperty, lastKnownRefundId }, additionalProperties: false,
} as const;
const uuidKey = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

const refundBody = {
  type: 'object',
  required: ['lastKnownRefundId'],
  properties: {
    _csrf: { type: 'string' }, ...actionKeyProperty, comment: { type: 'string', maxLength: 1000 }, lastKnownRefundId,
    orderAction: { type: 'string', enum: [...refundOrderActions] },
  },
  patternProperties: {
    [`^amount_${uuidKey}$`]: { type: 'string', maxLength: 32 },
    [`^manual_${uuidKey}$`]: { type: 'string', enum: ['on'] },
  },
  additionalProperties: false,
} as const;

const markPaidBody = {
  type: 'object',
  properties: { _csrf: { type: 'string' }, ...actionKeyProperty, force: { type: 'string', enum: ['on'] } },
  additionalProperties: false,
} as const;

const cancelBody = {
  type: 'object',
  properties: {
    _csrf: { type: 'string' },
    ...actionKeyProperty,
    cancellationFee: { type: 'string', maxLength: 32 },
    autoRefund: { type: 'string', enum: ['on'] },
  },
  additionalProperties: false,
} as const;

const extendBody = {
  type: 'object',
  required: ['expires'],
  properties: {
    _csrf: { type: 'string' },
    ...actionKeyProperty,
    expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}$' },
    force: { type: 'string', enum: ['on'] },
  },
  additionalProperties: false,
} as const;

const processBody = {
  type: 'object',
  required: ['action'],
  properties: { _csrf: { type: 'string' }, ...actionKeyProperty, action: { type: 'string', enum: ['cancel', 'pending'] } },
  additionalProperties: false,
} as const;

interface RefundLine {
  row: PaymentRow;
  amount: string;
  manual: boolean;
}

/**
 * The organizer's actions on one order. Each validates, checks the order belongs to the user's
 * organizer, calls one core service method and redirects back with a message (post/redirect/get).
 */
export const orderActionRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  const { core } = deps;
  const back = (order: Order) => `/control/orders/${order.id}`;
  const orderOf = (req: FastifyRequest<{ Params: { orderId: string } }>) => scope.order(userOf(req).organizerId, req.params.orderId);
  /** A payment or refund id must belong to the order in the URL (and so to the organizer). */
  const paymentOf = async (order: Order, paymentId: string) => {
    const { payment } = await scope.payment(order.organizerId, paymentId);
    if (payment.orderId !== order.id) throw new KassaError('NOT_FOUND', { entity: 'Payment' });
    return payment;
  };
  const refundOf = async (order: Order, refundId: string) => {
    const { refund } = await scope.refund(order.organizerId, refundId);
    if (refund.orderId !== order.id) throw new KassaError('NOT_FOUND', { entity: 'Refund' });
    return refund;
  };
  // The order is looked up (NOT_FOUND for another organizer's) before its form's key is.
  installActionGuard(app, core.actionKeys, async (req) => {
    const order = await orderOf(req as FastifyRequest<{ Params: { orderId: string } }>);
    return { organizerId: order.organizerId, orderId: order.id };
  });

  app.post<{ Params: { orderId: string; paymentId: string } }>('/control/orders/:orderId/payments/:paymentId/confirm', {
    schema: { params: idParams('orderId', 'paymentId'), body: csrfOnly }, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const payment = await paymentOf(order, req.params.paymentId);
    // A double click lands here twice: the second one is told, not refused.
    if (paymentMachine.is('confirmed', payment.state)) return redirectWithFlash(req, reply, back(order), 'The payment was already confirmed.');
    const result = await core.payments.manualConfirm(payment.id, { actor: actorOf(req) });
    const message = {
      already_confirmed: 'The payment was already confirmed.',
      order_paid: 'Payment confirmed: the order is paid.',
      partially_paid: 'Payment confirmed: the order is still partly unpaid.',
      order_unchanged: 'Payment confirmed. The order was already paid or canceled, check for overpayment.',
      quota_exceeded: 'Payment confirmed, but the expired order could not be revived: no quota left.',
    }[result.kind];
    return redirectWithFlash(req, reply, back(order), message, result.kind === 'quota_exceeded' ? 'warning' : 'success');
  });

  app.post<{ Params: { orderId: string; paymentId: string } }>('/control/orders/:orderId/payments/:paymentId/cancel', {
    schema: { params: idParams('orderId', 'paymentId'), body: csrfOnly }, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const payment = await paymentOf(order, req.params.paymentId);
    await core.payments.cancelPayment(payment.id, actorOf(req));
    return redirectWithFlash(req, reply, back(order), 'Payment canceled.');
  });

  // Refunds start from the proposal for the amount asked (by default everything paid).
  const showRefundForm = async (
    req: FastifyRequest, reply: FastifyReply, order: Order, lines: RefundLine[] | null, amountText: string | null, errors: Record<string, string>, orderAction?: string,
  ) => {
    const detail = await loadOrderDetail(deps, scope.reads, order);
    const refundable = detail.payments.filter((p) => p.refundable > 0);
    let proposed = lines;
    if (!proposed) {
      const total = amountText ? parseMoney(amountText, order.currency, { field: 'amount' }).amount : refundable.reduce((a, p) => a + p.refundable, 0);
      const plan = total > 0 ? await core.refunds.proposeRefunds(order.id, { amount: total, currency: order.currency }) : { proposals: [], uncovered: 0 };
      let uncovered = plan.uncovered;
      proposed = refundable.map((row) => {
        const auto = plan.proposals.find((p) => p.payment.id === row.payment.id)?.amount.amount ?? 0;
        let manual = 0;
        // What no automatic refund covers goes to the payments that need a manual refund.
        if (auto === 0 && uncovered > 0) manual = Math.min(uncovered, row.refundable);
        uncovered -= manual;
        return { row, amount: toDecimalInput(auto || manual, order.currency), manual: manual > 0 || !row.automaticRefund };
      });
    }
    // The form carries what it was built from and a fresh one-time key (pretix's last_known_refund_id).
    const lastKnownRefundId = detail.refunds.at(-1)?.id ?? '';
    const actionKey = await core.actionKeys.issue({ organizerId: order.organizerId, orderId: order.id });
    return renderPage(req, reply, 'refund-form', {
      title: `Refund ${order.code}`, section: 'orders', ...detail, lines: proposed, errors, requested: amountText, orderAction, lastKnownRefundId, actionKey,
    });
  };

  app.get<{ Params: { orderId: string }; Querystring: { amount?: string } }>('/control/orders/:orderId/refund', {
    config: { permission: 'event.orders.change' },
    schema: { params: idParams('orderId'), querystring: { type: 'object', properties: { amount: { type: 'string', maxLength: 32 } }, additionalProperties: false } },
  }, async (req, reply) => {
    const order = await orderOf(req);
    try {
      return await showRefundForm(req, reply, order, null, req.query.amount || null, {});
    } catch (err) {
      const r = formRefusal(err, 'amount');
      return showRefundForm(req, reply.code(r.status), order, null, null, r.errors);
    }
  });

  app.post<{ Params: { orderId: string }; Body: Record<string, string | undefined> }>('/control/orders/:orderId/refund', {
    schema: { params: idParams('orderId'), body: refundBody }, attachValidation: true, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const detail = await loadOrderDetail(deps, scope.reads, order);
    const body = req.body ?? {};
    const lines: RefundLine[] = detail.payments.filter((p) => p.refundable > 0).map((row) => ({
      row, amount: body[`amount_${row.payment.id}`] ?? '', manual: body[`manual_${row.payment.id}`] === 'on',
    }));
    const orderAction = (body.orderAction ?? 'pending') as RefundOrderAction;
    if (req.validationError) return showRefundForm(req, reply.code(400), order, lines, null, fieldErrors(req.validationError), body.orderAction);
    // Built before a refund that exists now: shown again from what is current, nothing refunded.
    if ((body.lastKnownRefundId || null) !== (detail.refunds.at(-1)?.id ?? null)) {
      return showRefundForm(req, reply.code(409), order, null, null, { form: new KassaError('REFUND_STALE_FORM', { code: order.code }).message }, orderAction);
    }

    // Every line is checked before the first refund is written, so a refusal writes nothing.
    const planned: { row: PaymentRow; amount: number; manual: boolean }[] = [];
    const errors: Record<string, string> = {};
    let status = 400;
    for (const line of lines) {
      const field = `amount_${line.row.payment.id}`;
      if (line.amount.trim() === '') continue;
      try {
        const amount = parseMoney(line.amount, order.currency, { field }).amount;
        if (amount === 0) continue;
        const p = line.row.payment;
        if (amount > line.row.refundable) {
          throw new KassaError('REFUND_AMOUNT_EXCEEDS_AVAILABLE', { amount: line.amount, available: toDecimalInput(line.row.refundable, order.currency), payment: line.row.label, field });
        }
        if (!line.manual && !line.row.automaticRefund) throw new KassaError('REFUND_NOT_SUPPORTED', { provider: p.provider, payment: line.row.label, field });
        if (!line.manual && amount < line.row.refundable && !line.row.partialRefund) {
          throw new KassaError('REFUND_PARTIAL_NOT_SUPPORTED', { provider: p.provider, payment: line.row.label, field });
        }
        planned.push({ row: line.row, amount, manual: line.manual });
      } catch (err) {
        const refusal = formRefusal(err, field);
        if (Object.keys(errors).length === 0) status = refusal.status;
        Object.assign(errors, refusal.errors);
      }
    }
    if (Object.keys(errors).length === 0 && planned.length === 0) errors.form = 'Enter an amount to refund for at least one payment.';
    // "Keep paid" is checked for all lines together, before the first refund is written.
    const owedAfter = detail.summary.pendingSum + planned.reduce((a, p) => a + p.amount, 0);
    if (Object.keys(errors).length === 0 && orderAction === 'keep_paid' && orderMachine.is('paid', detail.order.status) && owedAfter > 0) {
      const refusal = formRefusal(new KassaError('REFUND_ORDER_ACTION_INVALID', { code: order.code, owed: toDecimalInput(owedAfter, order.currency), field: 'orderAction' }), 'orderAction');
      status = refusal.status;
      Object.assign(errors, refusal.errors);
    }
    if (Object.keys(errors).length > 0) return showRefundForm(req, reply.code(status), order, lines, null, errors, orderAction);

    // Each refund expects the one before it to be the newest: a refund made meanwhile by someone
    // else (another tab, the API, a provider's report) makes the form stale, and nothing more moves.
    let expectLastRefundId: string | null = body.lastKnownRefundId || null;
    const results: string[] = [];
    let orderStatus: string | undefined;
    for (const p of planned) {
      try {
        const { refund, outcome, orderStatus: after } = await core.refunds.createRefund(order.id, {
          paymentId: p.row.payment.id, amount: { amount: p.amount, currency: order.currency }, source: 'admin',
          comment: body.comment || undefined, provider: p.manual ? 'manual' : undefined, orderAction, actor: actorOf(req), expectLastRefundId,
        });
        expectLastRefundId = refund.id;
        orderStatus = after ?? orderStatus;
        results.push(`${p.row.label}: ${p.manual ? 'manual refund recorded' : (outcome?.kind ?? refund.state)}`);
      } catch (err) {
        if (!isKassaError(err) || err.status >= 500) throw err;
        // Refused before the first refund: nothing moved, the form is shown again (fresh, if it was stale).
        if (results.length === 0) {
          const stale = err.code === 'REFUND_STALE_FORM';
          return showRefundForm(req, reply.code(err.status), order, stale ? null : lines, null, stale ? { form: err.message } : formRefusal(err, `amount_${p.row.payment.id}`).errors, orderAction);
        }
        // Some refunds went out already: say which, and stop (the key stays used).
        return redirectWithFlash(req, reply, back(order), `Refunds created. ${results.join('; ')}. Stopped at ${p.row.label}: ${err.message}`, 'warning');
      }
    }
    const failed = results.some((r) => r.endsWith('failed'));
    const statusNote = orderStatus && orderStatus !== order.status ? ` The order is now ${orderStatus}.` : '';
    return redirectWithFlash(req, reply, back(order), `Refunds created. ${results.join('; ')}.${statusNote}`, failed ? 'warning' : 'success');
  });

  app.post<{ Params: { orderId: string; refundId: string }; Body: { action: 'cancel' | 'pending' } }>('/control/orders/:orderId/refunds/:refundId/process', {
    schema: { params: idParams('orderId', 'refundId'), body: processBody }, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const refund = await refundOf(order, req.params.refundId);
    await core.refunds.processExternalRefund(refund.id, { action: req.body.action, actor: actorOf(req) });
    return redirectWithFlash(req, reply, back(order), req.body.action === 'cancel' ? 'External refund accepted; the order is canceled.' : 'External refund accepted; the order is pending again.');
  });

  app.post<{ Params: { orderId: string; refundId: string }; Body: { lastKnownRefundId: string } }>('/control/orders/:orderId/refunds/:refundId/retry', {
    schema: { params: idParams('orderId', 'refundId'), body: retryBody }, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const refund = await refundOf(order, req.params.refundId);
    const paymentId = retryablePaymentOf(refund, `${order.code}-R-${refund.localId}`);
    // A retry is a new attempt (one row per attempt), for the same payment, amount and provider.
    const { outcome } = await core.refunds.createRefund(order.id, {
      paymentId, amount: { amount: refund.amount, currency: refund.currency }, source: 'admin',
      comment: refund.comment || undefined, provider: refund.provider, actor: actorOf(req),
      // Two tabs retrying the same failed refund: the second finds a newer refund and moves nothing.
      expectLastRefundId: req.body.lastKnownRefundId || null,
    });
    return redirectWithFlash(req, reply, back(order), `Refund retried: ${outcome?.kind ?? 'created'}.`, outcome?.kind === 'failed' ? 'warning' : 'success');
  });

  app.post<{ Params: { orderId: string; refundId: string } }>('/control/orders/:orderId/refunds/:refundId/done', {
    schema: { params: idParams('orderId', 'refundId'), body: csrfOnly }, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const refund = await refundOf(order, req.params.refundId);
    await core.refunds.markRefundDone(refund.id, { actor: actorOf(req) });
    return redirectWithFlash(req, reply, back(order), 'Refund marked as done.');
  });

  app.post<{ Params: { orderId: string }; Body: { cancellationFee?: string; autoRefund?: 'on' } }>('/control/orders/:orderId/cancel', {
    schema: { params: idParams('orderId'), body: cancelBody }, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const feeText = req.body.cancellationFee?.trim();
    const cancellationFee = feeText ? parseMoney(feeText, order.currency, { field: 'cancellationFee' }) : undefined;
    const result = await core.orders.cancelOrder(order.id, { cancellationFee, autoRefund: req.body.autoRefund === 'on', actor: actorOf(req) });
    const notes = [
      result.refunds.length ? `${result.refunds.length} refund(s) started` : '',
      result.refundRequested > 0 ? `refund ${toDecimalInput(result.refundRequested, order.currency)} ${order.currency} by hand` : '',
      result.paymentCancelFailures.length ? `${result.paymentCancelFailures.length} open payment(s) could not be canceled` : '',
    ].filter(Boolean);
    return redirectWithFlash(req, reply, back(order), `Order ${orderMachine.is('canceled', result.order.status) ? 'canceled' : 'reduced to the cancellation fee'}.${notes.length ? ` ${notes.join('; ')}.` : ''}`,
      result.paymentCancelFailures.length ? 'warning' : 'success');
  });

  // pretix's "mark as paid"; with force the quota may be overbooked (the form says so).
  app.post<{ Params: { orderId: string }; Body: { force?: 'on' } }>('/control/orders/:orderId/mark-paid', {
    schema: { params: idParams('orderId'), body: markPaidBody }, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const result = await core.orders.markPaid(order.id, { force: req.body?.force === 'on', actor: actorOf(req) });
    return result.overbooked
      ? redirectWithFlash(req, reply, back(order), 'Order marked as paid. No ticket was left for it: the quota is overbooked.', 'warning')
      : redirectWithFlash(req, reply, back(order), 'Order marked as paid.');
  });

  app.post<{ Params: { orderId: string }; Body: { expires: string; force?: 'on' } }>('/control/orders/:orderId/extend', {
    schema: { params: idParams('orderId'), body: extendBody }, config: changeOrders,
  }, async (req, reply) => {
    const order = await orderOf(req);
    // The control panel shows times in UTC, so the form's local date-time is read as UTC.
    const expires = new Date(`${req.body.expires}:00Z`);
    await core.orders.extendOrder(order.id, expires, { force: req.body.force === 'on', actor: actorOf(req) });
    return redirectWithFlash(req, reply, back(order), `Order extended until ${req.body.expires.replace('T', ' ')} UTC.`);
  });
};

/**
 * The payment a retry of this refund goes to: only a retryable (failed) refund of a payment may be
 * retried, as a new attempt; anything else is REFUND_NOT_RETRYABLE, naming the refund and why.
 */
function retryablePaymentOf(refund: OrderRefund, label: string): string {
  if (!refundMachine.is('retryable', refund.state)) {
    throw new KassaError('REFUND_NOT_RETRYABLE', { refund: label, state: refund.state, reason: `retryable: ${refundMachine.statesOf('retryable').join(', ')}` });
  }
  if (!refund.paymentId) throw new KassaError('REFUND_NOT_RETRYABLE', { refund: label, state: refund.state, reason: 'it belongs to no payment' });
  return refund.paymentId;
}
