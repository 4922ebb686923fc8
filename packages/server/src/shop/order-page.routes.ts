import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { formatMoney, isKassaError, KassaError, money, orderMachine, paymentMachine, type CurrencyCode } from '@kassa/core/host';
import type { ShopEvent } from './catalog';
import { countryOptions, isCountryCode } from './countries';
import { checkoutOwner } from './checkout-session';
import { asRefusal, errorView } from './html-refusal';
import { loadOrderBySecret, orderPageView, paymentChange, type LoadedOrder } from './order-view';
import { orderParams, paymentBody, type OrderParams, type PaymentBody } from './schemas';
import type { ShopContext } from './shop-context';
import { eventUrl, orderUrl } from './urls';
import { savedMethodsView } from './saved-methods.routes';
import { buyerCsrfToken, setBuyerFlash, takeBuyerFlash } from '../infra/buyer-session';
import { buyerPlanView } from './plan-view';

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
    const flash = takeBuyerFlash(req);
    const hadAttempt = ctx.loaded.payments.some((p) => !paymentMachine.is('abandoned', p.state));
    return reply.view('shop/order', {
      ...view, flash, locale: ctx.event.locale, organizer: { name: ctx.organizer.name }, event: { name: ctx.event.name },
      eventUrl: eventUrl(ctx.organizer, ctx.event),
      changeUrl: change.allowed ? `${ctx.page}pay` : null,
      changeLabel: ctx.loaded.payments.some((p) => paymentMachine.is('inTransit', p.state)) ? 'Use another payment method' : hadAttempt ? 'Try again' : 'Pay now',
      changeBlockedReason: !change.allowed && !orderMachine.is('paid', ctx.loaded.order.status) && !orderMachine.is('canceled', ctx.loaded.order.status)
        ? `The payment cannot be changed: ${change.reason}.` : null,
      error: null,
      savedMethods: await savedMethodsView(shop, ctx.loaded.order.id, ctx.page), csrfToken: buyerCsrfToken(req),
      plan: await buyerPlanView(shop, ctx.loaded.order, ctx.loaded.order.locale || ctx.event.locale),
    });
  });

  async function renderPay(
    req: FastifyRequest<{ Params: OrderParams }>, reply: FastifyReply, error?: KassaError, fieldErrors?: Record<string, Record<string, string>>,
    selected?: string, given?: string,
  ) {
    const ctx = await load(req);
    await assertChangeable(ctx.loaded, shop);
    const { order } = ctx.loaded;
    // An order placed before a method was restricted by country has none: it is asked here, and
    // only then (the choice lists the methods for that country).
    const askCountry = order.country === null && await shop.needsCountry(ctx.event);
    const country = order.country ?? (askCountry ? countryParam(given) : null);
    // Each method's fee is computed as the switch will compute it (core's quote): on what is still
    // owed without the open method's fee, so the buyer sees the new fee and amount before paying.
    const quote = await shop.deps.core.payments.quotePaymentMethodChange(order.id);
    const methods = (await shop.offeredMethods(ctx.event, quote.base, country)).filter((m) => !m.implicit);
    if (error) reply.status(error.status);
    const locale = order.locale || ctx.event.locale;
    const fmt = (amount: number) => formatMoney(money(amount, quote.base.currency as CurrencyCode), locale);
    const base = fmt(quote.base.amount);
    return reply.view('shop/payment', {
      locale: ctx.event.locale, organizer: { name: ctx.organizer.name }, event: { name: ctx.event.name }, eventUrl: eventUrl(ctx.organizer, ctx.event),
      csrfToken: buyerCsrfToken(req), heading: `Pay for order ${order.code}`, showSteps: false,
      action: `${ctx.page}pay`, backUrl: ctx.page, submitLabel: 'Pay now',
      summaryHeading: quote.openFee > 0 ? 'Still to pay, before the payment fee' : 'Still to pay',
      // A fresh token per form: a double submit starts one payment, a later visit may start another.
      token: randomUUID(),
      methods: methods.map((m) => ({
        identifier: m.identifier, name: m.name, fee: m.fee.amount > 0 ? fmt(m.fee.amount) : null,
        total: fmt(quote.base.amount + m.fee.amount), formHtml: m.renderForm(),
      })),
      selected, fieldErrors, cart: { lines: [], fee: null, total: base }, error: errorView(error),
      countryChoice: askCountry ? { action: `${ctx.page}pay`, options: countryOptions(ctx.event.locale), selected: country ?? '' } : null,
      country: askCountry ? country : null,
    });
  }

  app.get<{ Params: OrderParams; Querystring: { country?: string } }>('/:organizer/:event/order/:code/:secret/pay', {
    schema: { params: orderParams, querystring: payQuery },
  }, (req, reply) => renderPay(req, reply, undefined, undefined, undefined, req.query.country));

  app.post<{ Params: OrderParams; Body: PaymentBody }>('/:organizer/:event/order/:code/:secret/pay', {
    schema: { params: orderParams, body: paymentBody }, attachValidation: true,
    // Starting a payment calls the provider (a PaymentIntent, say): limited like placing an order.
    config: { rateLimit: shop.placeOrderRateLimit, csrf: 'buyer' },
  }, async (req, reply) => {
    if (req.validationError) return renderPay(req, reply, asRefusal(req, req.validationError));
    const { provider: identifier, token, country: givenCountry, ...fields } = req.body;
    const country = countryParam(givenCountry);
    delete fields._csrf;
    if (!token) return renderPay(req, reply, asRefusal(req, new KassaError('VALIDATION_FAILED', { field: 'token', detail: 'body.token is required' })));
    let redirect: string;
    try {
      const result = await shop.submissions.run(token, 'pay', checkoutOwner(req), async () => {
        const ctx = await load(req);
        await assertChangeable(ctx.loaded, shop);
        return { orderId: ctx.loaded.order.id, redirect: await payAgain(shop, req, ctx, identifier, fields as Record<string, unknown>, country) };
      });
      redirect = result.redirect;
    } catch (err) {
      const refusal = asRefusal(req, err);
      const fieldErrors = refusal.code === 'SHOP_PAYMENT_FORM_INVALID' ? { [identifier]: { [String(refusal.params.field ?? 'form')]: String(refusal.params.detail) } } : undefined;
      return renderPay(req, reply, refusal, fieldErrors, identifier, country ?? undefined);
    }
    return reply.redirect(redirect, 303);
  });
};

const payQuery = {
  type: 'object',
  properties: { country: { type: 'string', pattern: '^[A-Za-z]{2}$' } },
  additionalProperties: false,
} as const;

/** A country the buyer chose (any case), if it is one. */
function countryParam(value: string | undefined): string | null {
  const code = value?.toUpperCase();
  return code && isCountryCode(code) ? code : null;
}

async function assertChangeable(loaded: LoadedOrder, shop: ShopContext): Promise<void> {
  const change = await paymentChange(loaded, shop);
  if (!change.allowed) throw new KassaError('SHOP_PAYMENT_NOT_CHANGEABLE', { code: loaded.order.code, reason: change.reason });
}

/**
 * pretix's change_payment_provider + OrderPaymentConfirm: abandon the open attempts, start a new
 * one for what is still owed, let the provider check its form (no money moves), then execute.
 */
async function payAgain(
  shop: ShopContext, req: FastifyRequest, ctx: OrderPageContext, identifier: string, fields: Record<string, unknown>, country: string | null,
): Promise<string> {
  const { order: loaded } = ctx.loaded;
  const quote = await shop.deps.core.payments.quotePaymentMethodChange(loaded.id);
  const method = await shop.offeredMethod(ctx.event, quote.base, identifier, loaded.country ?? country);
  // Core abandons the open attempts, replaces the payment fee by this method's, and starts the
  // new attempt (keeping the country given here when the order had none).
  const { payment, order } = await shop.deps.core.payments.changePaymentMethod(loaded.id, {
    provider: identifier, actor: { type: 'buyer' }, country: loaded.country === null ? country : undefined,
  });
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
      setBuyerFlash(req, { kind: 'error', message: `Your payment did not go through: ${outcome.message}. You can try again.` });
    }
  } catch (err) {
    if (!isKassaError(err)) req.log.error({ err }, 'payment execution failed');
    setBuyerFlash(req, { kind: 'error', message: 'We could not start your payment; please try again.' });
  }
  return ctx.page;
}
