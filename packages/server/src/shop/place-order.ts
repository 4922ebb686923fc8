import type { FastifyRequest } from 'fastify';
import { isKassaError, paymentMachine } from '@kassa/core/host';
import type { PricedCart, ShopEvent } from './catalog';
import type { ReadyCheckout } from './checkout-session';
import type { ShopContext } from './shop-context';
import { checkoutChoice } from './plan-choice';
import type { ConfirmBody } from './schemas';
import type { SubmissionResult } from './submission-store';
import { orderUrl } from './urls';
import { setBuyerFlash } from '../infra/buyer-session';

/**
 * Places the order from a finished checkout and runs its payment, pretix's perform_order followed
 * by OrderPaymentComplete. Core prices the order from the products (the cart only carries ids and
 * quantities) and checks quota under lock. The provider is called after the order's transaction
 * has committed. Once the order exists this never throws: a failing payment leaves a placed order
 * whose page explains the failure and offers to pay again.
 */
export async function placeAndPay(
  shop: ShopContext, req: FastifyRequest, where: ShopEvent, state: ReadyCheckout, cart: PricedCart, idempotencyKey: string, body: ConfirmBody = { token: '' },
): Promise<SubmissionResult & { replayed: boolean; paymentId: string | null }> {
  const { organizer, event } = where;
  // Checked again now, not only when the method was chosen: the window or the total may have changed.
  const method = await shop.offeredMethod(event, cart.subtotal, state.payment.provider, state.country);
  // Pay in instalments / save this card: refused before the order exists when not on offer.
  const choice = await checkoutChoice(shop, event.id, method, cart.subtotal, body);
  const positions = cart.lines.flatMap((l) => Array.from({ length: l.quantity }, () => ({ productId: l.product.id })));
  // The idempotency key (bound to the confirm form's token) is checked by the order's own insert:
  // a double submit gets the first order back (`replayed`) and never a second one. The method's
  // context (settings read just now) is reused by core instead of read again. `startPayment`: this
  // request executes the first payment right below, so core writes it already initiated.
  const placed = await shop.deps.core.orders.placeOrder({
    eventId: event.id, email: state.email, locale: event.locale, positions, provider: state.payment.provider, country: state.country ?? null,
    providerContext: method.ctx, idempotencyKey, startPayment: true, cartId: state.cartId,
  });
  const page = orderUrl(organizer, event, placed.order);
  const result = { orderId: placed.order.id, redirect: page, replayed: placed.replayed, paymentId: placed.payment?.id ?? null };
  const payment = placed.payment;
  // A replay is answered by the caller with the first submission's result; a free order is confirmed already.
  if (placed.replayed || !payment || !paymentMachine.is('executable', payment.state)) return result;

  let loaded = { payment, order: placed.order, event: method.ctx.event };
  if (choice.plan) {
    // The order becomes a plan now: its payment is lowered to the deposit, the later instalments
    // are added as payments of their own, and the card the buyer pays the deposit with is saved.
    try {
      await shop.deps.core.plans.createPlan(placed.order.id, { provider: method.identifier, actor: { type: 'buyer' } });
      const fresh = await shop.deps.core.payments.loadPayment(payment.id);
      // The same payment object (placeOrder reserved its execution for this request), now with the deposit's amount.
      payment.amount = fresh.payment.amount;
      loaded = { payment, order: fresh.order, event: method.ctx.event };
    } catch (err) {
      req.log.warn({ err }, 'the payment plan could not be set up after the order was placed');
      setBuyerFlash(req, { kind: 'error', message: 'Your order is saved, but the instalments could not be set up. You can pay in full below.' });
      return result;
    }
  }
  // The provider saves the card with this payment (Stripe: setup_future_usage=off_session).
  const session = choice.plan || choice.saveMethod ? { ...state.payment.session, saveMethod: true } : state.payment.session;

  try {
    const { outcome } = await shop.deps.core.payments.executePayment(payment.id, session, {
      loaded, context: method.ctx, contextProvider: method.identifier,
    });
    if (outcome.kind === 'requires_action' && outcome.redirectUrl) return { ...result, redirect: outcome.redirectUrl };
    if (outcome.kind === 'declined' || outcome.kind === 'failed') {
      setBuyerFlash(req, { kind: 'error', message: `Your payment did not go through: ${outcome.message ?? 'declined'}. You can try again below.` });
    }
  } catch (err) {
    if (!isKassaError(err)) req.log.error({ err }, 'payment execution failed after the order was placed');
    setBuyerFlash(req, { kind: 'error', message: 'We could not start your payment. Your order is saved; you can try again below.' });
  }
  return result;
}
