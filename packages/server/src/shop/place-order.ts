import type { FastifyRequest } from 'fastify';
import { isKassaError, paymentMachine } from '@kassa/core/host';
import type { PricedCart, ShopEvent } from './catalog';
import type { ReadyCheckout } from './checkout-session';
import type { ShopContext } from './shop-context';
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
  shop: ShopContext, req: FastifyRequest, where: ShopEvent, state: ReadyCheckout, cart: PricedCart, idempotencyKey: string,
): Promise<SubmissionResult & { replayed: boolean; paymentId: string | null }> {
  const { organizer, event } = where;
  // Checked again now, not only when the method was chosen: the window or the total may have changed.
  const method = await shop.offeredMethod(event, cart.subtotal, state.payment.provider, state.country);
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

  try {
    const { outcome } = await shop.deps.core.payments.executePayment(payment.id, state.payment.session, {
      loaded: { payment, order: placed.order, event: method.ctx.event }, context: method.ctx, contextProvider: method.identifier,
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
