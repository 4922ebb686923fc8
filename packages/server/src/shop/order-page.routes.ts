import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { formatMoney, isKassaError, KassaError, money, type CurrencyCode } from '@kassa/core';
import type { ShopEvent } from './catalog';
import { sessionOwner } from './checkout-session';
import { asRefusal, errorView } from './html-refusal';
import { loadOrderBySecret, orderPageView, paymentChange, type LoadedOrder } from './order-view';
import { orderParams, paymentBody, type OrderParams, type PaymentBody } from './schemas';
import type { ShopContext } from './shop-context';
import { eventUrl, orderUrl } from './urls';

/** An order page request: the event, the order found through its secret, and the page's URL. */
interface OrderPageContext extends ShopEvent {
  loaded: LoadedOrder;
  page: string;
}

/**
 * The buyer's order page (reached only through its secret link) and paying again: retrying a
 * failed payment or switching to another method where the open payment may be abandoned.
 */
export const orderPageRoutes: FastifyPluginAsync<{ shop: ShopContext }> = async (app, { shop }) => {
  async function load(req: FastifyRequest<{ Params: OrderParams }>): Promise<OrderPageContext> {
    const where = await shop.catalog.event(req.params.organizer, req.params.event);
    const loaded = await loadOrderBySecret(shop, where.event, req.params.code, req.params.secret);
    return { ...where, loaded, page: orderUrl(where.organizer, where.event, loaded.order) };
  }

  app.get<{ Params: OrderParams }>('/:organizer/:event/order/:code/:secret/', { schema: { params: orderParams } }, async (req, reply) => {
    const ctx = await load(req);
    const view = await orderPageView(shop, ctx, ctx.loaded);
    const change = await paymentChange(ctx.loaded, shop);
    const flash = req.session.get('flash');
    if (flash) req.session.set('flash', undefined);
    const hadAttempt = ctx.loaded.payments.some((p) => p.state !== 'canceled');
    return reply.view('shop/order', {
      ...view, flash, locale: ctx.event.locale, organizer: { name: ctx.organizer.name }, event: { name: ctx.event.name },
      eventUrl: eventUrl(ctx.organizer, ctx.event),
      changeUrl: change.allowed ? `${ctx.page}pay` : null,
      changeLabel: ctx.loaded.payments.some((p) => p.state === 'pending') ? 'Use another payment method' : hadAttempt ? 'Try again' : 'Pay now',
      changeBlockedReason: !change.allowed && ctx.loaded.order.status !== 'paid' && ctx.loaded.order.status !== 'canceled'
        ? `The payment cannot be changed: ${change.reason}.` : null,
      error: null,
    });
  });

  async function renderPay(req: FastifyRequest<{ Params: OrderParams }>, reply: FastifyReply, error?: KassaError, fieldErrors?: Record<string, Record<string, string>>, selected?: string) {
    const ctx = await load(req);
    await assertChangeable(ctx.loaded, shop);
    const open = money(ctx.loaded.sums.pendingSum, ctx.loaded.order.currency.trim() as CurrencyCode);
    const methods = (await shop.offeredMethods(ctx.event, open)).filter((m) => !m.implicit);
    if (error) reply.status(error.status);
    const amount = formatMoney(open, ctx.loaded.order.locale || ctx.event.locale);
    return reply.view('shop/payment', {
      locale: ctx.event.locale, organizer: { name: ctx.organizer.name }, event: { name: ctx.event.name }, eventUrl: eventUrl(ctx.organizer, ctx.event),
      csrfToken: reply.generateCsrf(), heading: `Pay ${amount} for order ${ctx.loaded.order.code}`, showSteps: false,
      action: `${ctx.page}pay`, backUrl: ctx.page, submitLabel: `Pay ${amount}`, summaryHeading: 'Still to pay',
      // A fresh token per form: a double submit starts one payment, a later visit may start another.
      token: randomUUID(),
      methods: methods.map((m) => ({ identifier: m.identifier, name: m.name, fee: null, formHtml: m.renderForm() })),
      selected, fieldErrors, cart: { lines: [], fee: null, total: amount }, error: errorView(error),
    });
  }

  app.get<{ Params: OrderParams }>('/:organizer/:event/order/:code/:secret/pay', { schema: { params: orderParams } }, (req, reply) => renderPay(req, reply));

  app.post<{ Params: OrderParams; Body: PaymentBody }>('/:organizer/:event/order/:code/:secret/pay', {
    schema: { params: orderParams, body: paymentBody }, attachValidation: true,
    // Starting a payment calls the provider (a PaymentIntent, say): limited like placing an order.
    config: { rateLimit: shop.placeOrderRateLimit },
  }, async (req, reply) => {
    if (req.validationError) return renderPay(req, reply, asRefusal(req, req.validationError));
    const { provider: identifier, token, ...fields } = req.body;
    delete fields._csrf;
    if (!token) return renderPay(req, reply, asRefusal(req, new KassaError('VALIDATION_FAILED', { field: 'token', detail: 'body.token is required' })));
    let redirect: string;
    try {
      const result = await shop.submissions.run(token, 'pay', sessionOwner(req), async () => {
        const ctx = await load(req);
        await assertChangeable(ctx.loaded, shop);
        return { orderId: ctx.loaded.order.id, redirect: await payAgain(shop, req, ctx, identifier, fields as Record<string, unknown>) };
      });
      redirect = result.redirect;
    } catch (err) {
      const refusal = asRefusal(req, err);
      const fieldErrors = refusal.code === 'SHOP_PAYMENT_FORM_INVALID' ? { [identifier]: { [String(refusal.params.field ?? 'form')]: String(refusal.params.detail) } } : undefined;
      return renderPay(req, reply, refusal, fieldErrors, identifier);
    }
    return reply.redirect(redirect, 303);
  });
};

async function assertChangeable(loaded: LoadedOrder, shop: ShopContext): Promise<void> {
  const change = await paymentChange(loaded, shop);
  if (!change.allowed) throw new KassaError('SHOP_PAYMENT_NOT_CHANGEABLE', { code: loaded.order.code, reason: change.reason });
}

/**
 * pretix's change_payment_provider + OrderPaymentConfirm: abandon the open attempts, start a new
 * one for what is still owed, let the provider check its form (no money moves), then execute.
 */
async function payAgain(
  shop: ShopContext, req: FastifyRequest, ctx: OrderPageContext, identifier: string, fields: Record<string, unknown>,
): Promise<string> {
  const { order, sums, payments } = ctx.loaded;
  const method = await shop.offeredMethod(ctx.event, money(sums.pendingSum, order.currency.trim() as CurrencyCode), identifier);
  for (const open of payments.filter((p) => p.state === 'created' || p.state === 'pending')) {
    await shop.deps.core.payments.cancelPayment(open.id, { type: 'buyer' });
  }
  const payment = await shop.deps.core.payments.createPayment(order.id, { provider: identifier, actor: { type: 'buyer' } });
  const prepared = await method.provider.paymentPrepare(method.ctx, { order, payment }, fields);
  if (!prepared.ok) {
    await shop.deps.core.payments.cancelPayment(payment.id, { type: 'buyer' });
    const detail = Object.entries(prepared.errors).map(([k, v]) => `${k}: ${v}`).join('; ');
    throw new KassaError('SHOP_PAYMENT_FORM_INVALID', { provider: method.name, detail, field: Object.keys(prepared.errors)[0] });
  }
  try {
    const { outcome } = await shop.deps.core.payments.executePayment(payment.id, prepared.session);
    if (outcome.kind === 'requires_action') return outcome.redirectUrl;
    if (outcome.kind === 'declined' || outcome.kind === 'failed') {
      req.session.set('flash', { kind: 'error', message: `Your payment did not go through: ${outcome.message}. You can try again.` });
    }
  } catch (err) {
    if (!isKassaError(err)) req.log.error({ err }, 'payment execution failed');
    req.session.set('flash', { kind: 'error', message: 'We could not start your payment; please try again.' });
  }
  return ctx.page;
}
