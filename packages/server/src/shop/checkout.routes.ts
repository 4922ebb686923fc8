import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { formatMoney, isKassaError, KassaError, paymentMachine } from '@kassa/core/host';
import { priceCart, type PricedCart, type ShopEvent } from './catalog';
import { checkoutOwner, confirmToken, liveCheckout, readCheckout, writeCheckout, type CheckoutState, type ReadyCheckout } from './checkout-session';
import { checkHold, heldUntilView } from './cart-hold';
import { asRefusal, errorView } from './html-refusal';
import { placeAndPay } from './place-order';
import { planChoiceView } from './plan-choice';
import { placementKey } from './submission-store';
import {
  confirmBody, contactBody, eventParams, paymentBody, type ConfirmBody, type ContactBody, type EventParams, type PaymentBody,
} from './schemas';
import { countryOptions, isCountryCode } from './countries';
import { cartView, type ShopContext } from './shop-context';
import { buyerCsrfToken, setBuyerFlash } from '../infra/buyer-session';
import { eventUrl } from './urls';

type Step = 'contact' | 'payment' | 'confirm';

/**
 * Checkout: contact → payment method (and the provider's form) → confirm → order placed and
 * payment executed. Each GET shows a step from the session's checkout; each POST validates,
 * stores, and redirects (POST/redirect/GET, so a reload never resubmits).
 */
export const checkoutRoutes: FastifyPluginAsync<{ shop: ShopContext }> = async (app, { shop }) => {
  /** The event and the checkout so far, or a redirect to the first step that is missing. */
  async function load(req: FastifyRequest<{ Params: EventParams }>, reply: FastifyReply, needs: Step) {
    const where = await shop.catalog.event(req.params.organizer, req.params.event);
    const base = eventUrl(where.organizer, where.event);
    let state = await liveCheckout(req, where.event.id, (eventId, key) => shop.placedWithKey(eventId, key), needs === 'confirm' ? shop.deps.clock.now() : undefined);
    let missing: string | null = null;
    if (!state || state.lines.length === 0) missing = base;
    else if (needs !== 'contact' && !state.email) missing = `${base}checkout/contact`;
    else if (needs === 'confirm' && !state.payment) missing = `${base}checkout/payment`;
    if (missing || !state) {
      reply.redirect(missing ?? base, 303);
      return null;
    }
    // Prices are always the products' current prices; the session keeps only ids and quantities.
    const catalog = await shop.catalog.catalog(where.event.id);
    const kept = state.lines.filter((l) => catalog.products.some((p) => p.id === l.productId));
    if (kept.length !== state.lines.length) {
      // A product was withdrawn while the buyer was checking out: back to the event page, saying so.
      // The same cart id, held again at the next step (heldUntil dropped), so the old hold is replaced, not left behind.
      writeCheckout(req, where.event.id, kept.length ? { lines: kept, email: state.email, cartId: state.cartId } : undefined);
      setBuyerFlash(req, { kind: 'warning', message: 'Some tickets in your cart are no longer on sale and were removed. Please check your cart.' });
      reply.redirect(base, 303);
      return null;
    }
    // The tickets are held for a while; once that ran out, they are held again if still there,
    // and otherwise the buyer goes back to the event page with the cart cut to what is left.
    const hold = await checkHold(shop, where.event, state);
    if (hold.kind === 'adjusted') {
      writeCheckout(req, where.event.id, hold.state);
      setBuyerFlash(req, { kind: 'warning', message: hold.message });
      reply.redirect(base, 303);
      return null;
    }
    if (hold.kind === 'renewed') writeCheckout(req, where.event.id, (state = hold.state));
    let cart;
    try {
      cart = priceCart(where.event, catalog, state.lines, { checkAvailability: false });
    } catch (err) {
      // Prices rose since the cart was filled, past what one order can hold: back to the cart, saying so.
      if (isKassaError(err, 'SHOP_CART_TOO_LARGE')) return backToCart(req, reply, base, err);
      throw err;
    }
    return { ...where, base, state, cart };
  }

  /** The event page (the buyer's cart) with the refusal as a warning: the cart is what must change. */
  function backToCart(req: FastifyRequest, reply: FastifyReply, base: string, err: KassaError): null {
    setBuyerFlash(req, { kind: 'warning', message: err.message });
    reply.redirect(base, 303);
    return null;
  }

  /** The methods offered for the cart, or null (answered) when only the fees take it past what one order can hold. */
  async function methodsFor(req: FastifyRequest, reply: FastifyReply, ctx: { event: ShopEvent['event']; base: string; cart: PricedCart; state: CheckoutState }) {
    try {
      return await shop.offeredMethods(ctx.event, ctx.cart.subtotal, ctx.state.country);
    } catch (err) {
      if (isKassaError(err, 'SHOP_TOTAL_TOO_LARGE')) return backToCart(req, reply, ctx.base, err);
      throw err;
    }
  }

  function common(where: ShopEvent & { base: string; state?: CheckoutState }, csrfToken: string) {
    return {
      locale: where.event.locale, organizer: { name: where.organizer.name }, event: { name: where.event.name }, eventUrl: where.base, csrfToken,
      heldUntil: heldUntilView(where.state, where.event),
    };
  }

  // --- contact -------------------------------------------------------------------------------

  async function renderContact(req: FastifyRequest<{ Params: EventParams }>, reply: FastifyReply, error?: KassaError, email?: string, country?: string) {
    const ctx = await load(req, reply, 'contact');
    if (!ctx) return reply;
    if (error) reply.status(error.status);
    // The country is asked only when it decides something: a method of this event restricted by country.
    const countries = await shop.needsCountry(ctx.event) ? countryOptions(ctx.event.locale) : null;
    return reply.view('shop/contact', {
      ...common(ctx, buyerCsrfToken(req)), cart: cartView(ctx.cart, ctx.event.locale), email: email ?? ctx.state.email ?? '',
      countries, country: country ?? ctx.state.country ?? '', error: errorView(error),
    });
  }

  app.get<{ Params: EventParams }>('/:organizer/:event/checkout/contact', { schema: { params: eventParams } }, (req, reply) => renderContact(req, reply));

  app.post<{ Params: EventParams; Body: ContactBody }>('/:organizer/:event/checkout/contact', {
    schema: { params: eventParams, body: contactBody }, attachValidation: true, config: { csrf: 'buyer' },
  }, async (req, reply) => {
    const posted = req.body as { email?: unknown; country?: unknown } | undefined;
    const postedEmail = typeof posted?.email === 'string' ? posted.email : undefined;
    const postedCountry = typeof posted?.country === 'string' ? posted.country.toUpperCase() : undefined;
    if (req.validationError) return renderContact(req, reply, asRefusal(req, req.validationError), postedEmail, postedCountry);
    const ctx = await load(req, reply, 'contact');
    if (!ctx) return reply;
    let country: string | undefined;
    if (await shop.needsCountry(ctx.event)) {
      country = postedCountry;
      if (!country || !isCountryCode(country)) {
        const err = new KassaError('VALIDATION_FAILED', { field: 'country', detail: 'body.country must be a country (ISO 3166-1 alpha-2 code)' });
        return renderContact(req, reply, asRefusal(req, err), postedEmail, postedCountry);
      }
    }
    // A changed country may change the methods on offer: the method is chosen again.
    const payment = country === ctx.state.country ? ctx.state.payment : undefined;
    writeCheckout(req, ctx.event.id, { ...ctx.state, email: req.body.email.trim(), country, payment, token: payment ? ctx.state.token : undefined });
    return reply.redirect(`${ctx.base}checkout/payment`, 303);
  });

  // --- payment method --------------------------------------------------------------------------

  async function renderPayment(
    req: FastifyRequest<{ Params: EventParams }>, reply: FastifyReply,
    error?: KassaError, fieldErrors?: Record<string, Record<string, string>>, selected?: string,
  ) {
    const ctx = await load(req, reply, 'payment');
    if (!ctx) return reply;
    const methods = await methodsFor(req, reply, ctx);
    if (!methods) return reply;
    const implicit = methods.find((m) => m.implicit);
    if (implicit && !error) {
      // pretix's implicit providers (free orders): nothing to choose, go straight to confirm.
      writeCheckout(req, ctx.event.id, { ...ctx.state, payment: { provider: implicit.identifier, session: {} }, token: undefined });
      return reply.redirect(`${ctx.base}checkout/confirm`, 303);
    }
    if (error) reply.status(error.status);
    const visible = methods.filter((m) => !m.implicit);
    return reply.view('shop/payment', {
      ...common(ctx, buyerCsrfToken(req)),
      heading: 'How would you like to pay?', showSteps: true, action: `${ctx.base}checkout/payment`, backUrl: `${ctx.base}checkout/contact`,
      submitLabel: 'Continue', summaryHeading: 'Your cart', token: null,
      methods: visible.map((m) => ({ identifier: m.identifier, name: m.name, fee: m.fee.amount > 0 ? formatMoney(m.fee, ctx.event.locale) : null, formHtml: m.renderForm() })),
      selected: selected ?? ctx.state.payment?.provider, fieldErrors, cart: cartView(ctx.cart, ctx.event.locale), error: errorView(error),
    });
  }

  app.get<{ Params: EventParams }>('/:organizer/:event/checkout/payment', { schema: { params: eventParams } }, (req, reply) => renderPayment(req, reply));

  app.post<{ Params: EventParams; Body: PaymentBody }>('/:organizer/:event/checkout/payment', {
    schema: { params: eventParams, body: paymentBody }, attachValidation: true, config: { csrf: 'buyer' },
  }, async (req, reply) => {
    if (req.validationError) return renderPayment(req, reply, asRefusal(req, req.validationError));
    const ctx = await load(req, reply, 'payment');
    if (!ctx) return reply;
    const { provider: identifier, ...fields } = req.body;
    delete fields._csrf;
    delete fields.token;
    try {
      const method = await shop.offeredMethod(ctx.event, ctx.cart.subtotal, identifier, ctx.state.country);
      // checkoutPrepare validates the provider's own fields and never moves money.
      const prepared = await method.provider.checkoutPrepare(method.ctx, fields as Record<string, unknown>);
      if (!prepared.ok) {
        const detail = Object.entries(prepared.errors).map(([k, v]) => `${k}: ${v}`).join('; ');
        const err = new KassaError('SHOP_PAYMENT_FORM_INVALID', { provider: method.name, detail, field: Object.keys(prepared.errors)[0] });
        return renderPayment(req, reply, asRefusal(req, err), { [identifier]: prepared.errors }, identifier);
      }
      writeCheckout(req, ctx.event.id, { ...ctx.state, payment: { provider: identifier, session: prepared.session }, token: undefined });
    } catch (err) {
      return renderPayment(req, reply, asRefusal(req, err), undefined, identifier);
    }
    return reply.redirect(`${ctx.base}checkout/confirm`, 303);
  });

  // --- confirm and place -------------------------------------------------------------------------

  async function renderConfirm(req: FastifyRequest<{ Params: EventParams }>, reply: FastifyReply, error?: KassaError) {
    const ctx = await load(req, reply, 'confirm');
    if (!ctx) return reply;
    const chosen = ctx.state.payment!;
    const methods = await methodsFor(req, reply, ctx);
    if (!methods) return reply;
    const method = methods.find((m) => m.identifier === chosen.provider);
    if (!method || !method.provider.paymentIsValidSession(method.ctx, chosen.session)) {
      // The method became unavailable (total, window) or its data expired: choose again.
      writeCheckout(req, ctx.event.id, { ...ctx.state, payment: undefined, token: undefined });
      return reply.redirect(`${ctx.base}checkout/payment`, 303);
    }
    // The token follows from the checkout (confirmToken): a double click or a reload of the POST
    // carries the same token and gets the same order, and showing the page writes no cookie.
    const token = confirmToken(ctx.state);
    if (error) reply.status(error.status);
    const choice = await planChoiceView(shop, ctx.event.id, method, ctx.cart.subtotal, ctx.event.locale);
    return reply.view('shop/confirm', {
      ...common(ctx, buyerCsrfToken(req)), token, email: ctx.state.email, paymentName: method.name, choice,
      cart: cartView(ctx.cart, ctx.event.locale, { label: `${method.name} fee`, amount: method.fee }),
      confirmHtml: shop.views.render(method.provider.checkoutConfirmRender(method.ctx, chosen.session)),
      error: errorView(error),
    });
  }

  app.get<{ Params: EventParams }>('/:organizer/:event/checkout/confirm', { schema: { params: eventParams } }, (req, reply) => renderConfirm(req, reply));

  app.post<{ Params: EventParams; Body: ConfirmBody }>('/:organizer/:event/checkout/confirm', {
    schema: { params: eventParams, body: confirmBody },
    config: { rateLimit: shop.placeOrderRateLimit, csrf: 'buyer' },
  }, async (req, reply) => {
    const where = await shop.catalog.event(req.params.organizer, req.params.event);
    const token = req.body.token;
    let redirect: string;
    try {
      redirect = await placeFromCheckout(req, where, token, req.body);
    } catch (err) {
      return renderConfirm(req, reply, asRefusal(req, err));
    }
    // The session is left as it is (no write on this hot path): the order carries the token, and the
    // checkout is cleared on the buyer's next visit to it (liveCheckout).
    return reply.redirect(redirect, 303);
  });

  /**
   * The confirm POST's work: the checkout must show this token. The order is placed with the
   * token's idempotency key and its payment run. When core says the key names an order already
   * (a double submit, or a resubmit of the form), this answers as the first submission did, once
   * its payment has run.
   */
  async function placeFromCheckout(req: FastifyRequest<{ Params: EventParams }>, where: ShopEvent, token: string, body: ConfirmBody): Promise<string> {
    const state = readCheckout(req, where.event.id);
    assertReady(state, token);
    // Core prices the order from the products again and checks quota under lock; this total only
    // re-checks the payment method's limits, so the shortly cached catalog is good enough.
    const cart = priceCart(where.event, await shop.catalog.catalog(where.event.id), state.lines, { checkAvailability: false });
    const placed = await placeAndPay(shop, req, where, state, cart, placementKey(checkoutOwner(req), token), body);
    if (!placed.replayed) return placed.redirect;
    return awaitFirstPayment(placed.paymentId, placed.redirect);
  }

  /**
   * Where the first submission sent the buyer, read from its payment once that has run: the
   * provider's page for an action the buyer must take, else the order page. A first submission
   * that never ran the payment (it crashed) leaves the order page after the wait.
   */
  async function awaitFirstPayment(paymentId: string | null, orderPage: string): Promise<string> {
    const deadline = Date.now() + shop.submissions.waitMs;
    while (paymentId && Date.now() < deadline) {
      const { payment } = await shop.deps.core.payments.loadPayment(paymentId);
      const action = typeof payment.info.redirectUrl === 'string' ? payment.info.redirectUrl : null;
      const executable = paymentMachine.is('executable', payment.state);
      if (executable && action) return action;
      if (!executable) return orderPage;
      await sleep(shop.submissions.pollMs);
    }
    return orderPage;
  }
};


/** Refuses a confirm POST whose checkout is incomplete or was changed since the page was shown. */
function assertReady(state: CheckoutState | undefined, token: string): asserts state is ReadyCheckout {
  if (!state || state.lines.length === 0) throw new KassaError('SHOP_CHECKOUT_STEP_MISSING', { step: 'cart' });
  if (!state.email) throw new KassaError('SHOP_CHECKOUT_STEP_MISSING', { step: 'contact' });
  if (!state.payment) throw new KassaError('SHOP_CHECKOUT_STEP_MISSING', { step: 'payment' });
  // Another tab changed the cart after this confirm page was rendered: show the new summary instead.
  if (confirmToken(state) !== token) throw new KassaError('SHOP_CHECKOUT_STEP_MISSING', { step: 'confirm' });
}
