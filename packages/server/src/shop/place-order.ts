import type { FastifyRequest } from 'fastify';
import { isKassaError } from '@kassa/core';
import type { PricedCart, ShopEvent } from './catalog';
import type { ReadyCheckout } from './checkout-session';
import type { ShopContext } from './shop-context';
import type { RecordOrder, SubmissionResult } from './submission-store';
import { orderUrl } from './urls';

/**
 * Places the order from a finished checkout and runs its payment, pretix's perform_order followed
 * by OrderPaymentComplete. Core prices the order from the products (the cart only carries ids and
 * quantities) and checks quota under lock. The provider is called after the order's transaction
 * has committed. Once the order exists this never throws: a failing payment leaves a placed order
 * whose page explains the failure and offers to pay again.
 */
export async function placeAndPay(
  shop: ShopContext, req: FastifyRequest, where: ShopEvent, state: ReadyCheckout, cart: PricedCart,
  recordOrder: RecordOrder,
): Promise<SubmissionResult> {
  const { organizer, event } = where;
  // Checked again now, not only when the method was chosen: the window or the total may have changed.
  const method = await shop.offeredMethod(event, cart.subtotal, state.payment.provider);
  const positions = cart.lines.flatMap((l) => Array.from({ length: l.quantity }, () => ({ productId: l.product.id })));
  // The ledger binds the token to the order in the order's own transaction: no order without its token.
  // The method's context (settings read just now) is reused by core instead of read twice more.
  const placed = await shop.deps.core.orders.placeOrder({
    eventId: event.id, email: state.email, locale: event.locale, positions, provider: state.payment.provider,
    providerContext: method.ctx, onPlaced: (tx, order) => recordOrder(order.id, tx),
  });
  const page = orderUrl(organizer, event, placed.order);
  const result = { orderId: placed.order.id, redirect: page };
  const payment = placed.payment;
  if (!payment || payment.state !== 'created') return result; // a free order is confirmed already

  try {
    const { outcome } = await shop.deps.core.payments.executePayment(payment.id, state.payment.session, {
      loaded: { payment, order: placed.order, event: method.ctx.event }, context: method.ctx, contextProvider: method.identifier,
    });
    if (outcome.kind === 'requires_action' && outcome.redirectUrl) return { ...result, redirect: outcome.redirectUrl };
    if (outcome.kind === 'declined' || outcome.kind === 'failed') {
      req.session.set('flash', { kind: 'error', message: `Your payment did not go through: ${outcome.message ?? 'declined'}. You can try again below.` });
    }
  } catch (err) {
    if (!isKassaError(err)) req.log.error({ err }, 'payment execution failed after the order was placed');
    req.session.set('flash', { kind: 'error', message: 'We could not start your payment. Your order is saved; you can try again below.' });
  }
  return result;
}
