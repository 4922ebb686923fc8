import type { FastifyRequest } from 'fastify';
import type { PricedCart, ShopEvent } from './catalog';
import type { ReadyCheckout } from './checkout-session';
import type { ShopContext } from './shop-context';
import type { SubmissionResult } from './submission-store';
/**
 * Places the order from a finished checkout and runs its payment, pretix's perform_order followed
 * by OrderPaymentComplete. Core prices the order from the products (the cart only carries ids and
 * quantities) and checks quota under lock. The provider is called after the order's transaction
 * has committed. Once the order exists this never throws: a failing payment leaves a placed order
 * whose page explains the failure and offers to pay again.
 */
export declare function placeAndPay(shop: ShopContext, req: FastifyRequest, where: ShopEvent, state: ReadyCheckout, cart: PricedCart, recordOrder: (orderId: string) => Promise<void>): Promise<SubmissionResult>;
