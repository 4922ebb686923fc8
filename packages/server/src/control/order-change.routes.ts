import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { KassaError, assertEnteredAmount, orderMachine, parseMoney, type Order, type OrderChangeOperation, type OrderReadStore } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { toDecimalInput } from '../infra/format';
import { loadOrderDetail } from './order-detail';
import { actorOf, fieldErrors, formRefusal, idParams, redirectWithFlash, renderPage, userOf } from './page';

const uuidKey = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const uuidOrEmpty = { type: 'string', pattern: `^(${uuidKey})?$` } as const;

const changeBody = {
  type: 'object',
  required: ['fingerprint'],
  properties: {
    _csrf: { type: 'string' },
    // What the form was built from (core's change fingerprint): a replay or a stale tab is refused.
    fingerprint: { type: 'string', pattern: '^[0-9a-f]{24}$' },
    add_product: uuidOrEmpty,
    add_price: { type: 'string', maxLength: 32 },
    add_attendee: { type: 'string', maxLength: 200 },
  },
  patternProperties: {
    [`^cancel_${uuidKey}$`]: { type: 'string', enum: ['on'] },
    [`^price_${uuidKey}$`]: { type: 'string', maxLength: 32 },
    [`^product_${uuidKey}$`]: uuidOrEmpty,
  },
  additionalProperties: false,
} as const;

type ChangeBody = Record<string, string | undefined>;

/**
 * The organizer's order change (pretix's "change order"): a form over the order's live positions
 * (cancel, new price, other product) and one position to add. The route turns what differs from
 * the order into core operations and calls core's changeOrder once; a refusal (quota, a stale
 * form, a bad price) shows the form again with nothing written. When the order is now owed money
 * back, the organizer lands on the refund form with the proposal for that amount.
 */
export const orderChangeRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  const orderOf = (req: FastifyRequest<{ Params: { orderId: string } }>) => scope.order(userOf(req).organizerId, req.params.orderId);

  async function showForm(req: FastifyRequest, reply: FastifyReply, order: Order, posted: ChangeBody | null, errors: Record<string, string>) {
    const detail = await loadOrderDetail(deps, scope.reads, order);
    const products = await scope.reads.productsOfEvent(order.organizerId, order.eventId);
    return renderPage(req, reply, 'order-change', {
      title: `Change ${order.code}`, section: 'orders', ...detail, products, errors, posted: posted ?? {},
      // A fresh fingerprint only on a fresh form: a re-shown form keeps what it was built from.
      fingerprint: posted?.fingerprint ?? await deps.core.orders.changeFingerprint(order.id),
      priceInput: (amount: number) => toDecimalInput(amount, order.currency),
    });
  }

  app.get<{ Params: { orderId: string } }>('/control/orders/:orderId/change', { config: { permission: 'event.orders.change' }, schema: { params: idParams('orderId') } }, async (req, reply) => {
    const order = await orderOf(req);
    return showForm(req, reply, order, null, {});
  });

  app.post<{ Params: { orderId: string }; Body: ChangeBody }>('/control/orders/:orderId/change', {
    config: { permission: 'event.orders.change' },
    schema: { params: idParams('orderId'), body: changeBody }, attachValidation: true,
  }, async (req, reply) => {
    const order = await orderOf(req);
    const body = req.body ?? {};
    if (req.validationError) return showForm(req, reply.code(400), order, body, fieldErrors(req.validationError));
    let operations: OrderChangeOperation[];
    try {
      operations = await operationsFrom(deps, scope.reads, order, body);
    } catch (err) {
      const r = formRefusal(err);
      return showForm(req, reply.code(r.status), order, body, r.errors);
    }
    if (operations.length === 0) return showForm(req, reply.code(400), order, body, { form: 'Nothing to change: tick a position to cancel, enter a new price or product, or add a position.' });
    let result;
    try {
      result = await deps.core.orders.changeOrder(order.id, { operations, actor: actorOf(req), expectedFingerprint: body.fingerprint });
    } catch (err) {
      const r = formRefusal(err);
      return showForm(req, reply.code(r.status), order, isStale(err) ? { ...body, fingerprint: undefined } : body, r.errors);
    }
    const { summary } = result;
    const notes = [
      `total ${toDecimalInput(result.previousTotal, order.currency)} → ${toDecimalInput(summary.total, order.currency)} ${order.currency}`,
      orderMachine.is('paid', result.previousStatus) && orderMachine.is('awaitingPayment', summary.status) ? `the order is pending again: ${toDecimalInput(summary.pendingSum, order.currency)} ${order.currency} to pay` : '',
      result.paymentCancelFailures.length ? `${result.paymentCancelFailures.length} open payment(s) for the old amount could not be canceled` : '',
    ].filter(Boolean);
    const message = `Order changed (${operations.length} change${operations.length === 1 ? '' : 's'}): ${notes.join('; ')}.`;
    if (summary.pendingSum < 0 && !orderMachine.is('canceled', summary.status)) {
      // pretix shows the refund proposal for what is now owed back.
      const owed = toDecimalInput(-summary.pendingSum, order.currency);
      return redirectWithFlash(req, reply, `/control/orders/${order.id}/refund?amount=${encodeURIComponent(owed)}`,
        `${message} ${owed} ${order.currency} is owed back: review the proposed refund.`, 'warning');
    }
    return redirectWithFlash(req, reply, `/control/orders/${order.id}`, message, result.paymentCancelFailures.length ? 'warning' : 'success');
  });
};

function isStale(err: unknown): boolean {
  return err instanceof KassaError && err.code === 'ORDER_CHANGE_STALE';
}

/** The operations the form asks for: only what differs from the order's live positions. */
async function operationsFrom(deps: AppDeps, reads: OrderReadStore, order: Order, body: ChangeBody): Promise<OrderChangeOperation[]> {
  const detail = await loadOrderDetail(deps, reads, order);
  const ops: OrderChangeOperation[] = [];
  // Checked against the entry cap here too, so a refusal names the form's own field (core names `operations[i].price`).
  const price = (text: string | undefined, field: string) => {
    if (!text || text.trim() === '') return undefined;
    const amount = parseMoney(text, order.currency, { field }).amount;
    assertEnteredAmount(amount, field);
    return amount;
  };
  for (const p of detail.positions.filter((x) => !x.canceled)) {
    if (body[`cancel_${p.id}`] === 'on') {
      ops.push({ kind: 'cancel_position', positionId: p.id });
      continue;
    }
    const newPrice = price(body[`price_${p.id}`], `price_${p.id}`);
    const newProduct = body[`product_${p.id}`];
    if (newProduct && newProduct !== p.productId) {
      // An unchanged price field means "the new product's price".
      ops.push({ kind: 'change_product', positionId: p.id, productId: newProduct, price: newPrice !== undefined && newPrice !== p.price ? newPrice : undefined });
    } else if (newPrice !== undefined && newPrice !== p.price) {
      ops.push({ kind: 'change_price', positionId: p.id, price: newPrice });
    }
  }
  for (const key of Object.keys(body)) {
    const m = /^(?:cancel|price|product)_(.+)$/.exec(key);
    if (m && !detail.positions.some((p) => p.id === m[1] && !p.canceled)) {
      throw new KassaError('ORDER_CHANGE_INVALID', { field: key, detail: 'not a live position of this order' });
    }
  }
  if (body.add_product) {
    ops.push({ kind: 'add_position', productId: body.add_product, price: price(body.add_price, 'add_price'), attendeeName: body.add_attendee?.trim() || null });
  } else if (body.add_price?.trim()) {
    throw new KassaError('ORDER_CHANGE_INVALID', { field: 'add_product', detail: 'choose the product to add' });
  }
  return ops;
}
