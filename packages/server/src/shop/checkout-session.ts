import type { FastifyRequest } from 'fastify';
import { KassaError } from '@kassa/core/host';
import { buyerDataBytes, buyerId, maxBuyerDataBytes } from '../infra/buyer-session';
import { placementKey } from './submission-store';

/** One cart line: which product and how many. Prices are never stored here: they are read from the product when needed. */
export interface CartLine {
  productId: string;
  quantity: number;
}

/** The buyer's checkout for one event, kept in the buyer's sealed cookie (never in a hidden field). */
export interface CheckoutState {
  lines: CartLine[];
  email?: string;
  /** The buyer's country (ISO 3166-1 alpha-2), asked only when a method of the event is restricted by country. */
  country?: string;
  /** The chosen method and what its checkoutPrepare returned. */
  payment?: { provider: string; session: Record<string, unknown> };
  /** The idempotency token of the confirm form currently shown. */
  token?: string;
  /** The cart's id in core's cart reservations (a UUID kept only here, so only this buyer can release the hold). */
  cartId?: string;
  /** When the hold on the cart's tickets runs out (ISO 8601); a step before then needs no database read. */
  heldUntil?: string;
}

declare module '../infra/buyer-session' {
  interface BuyerSessionData {
    /** The shop's checkouts, keyed by event id, so two tabs on two events do not mix carts. */
    shop?: Record<string, CheckoutState>;
  }
}

/**
 * The buyer's checkout for an event, unless its confirm form has placed an order: then it is
 * cleared now. Placing the order does not write the cookie (a double submit or a resubmit of the
 * form must still carry the token, and the order carries it as its idempotency key), so the first
 * page of the checkout the buyer opens afterwards notices, with one indexed read, only for a
 * checkout that reached the confirm page.
 */
export async function liveCheckout(
  req: FastifyRequest, eventId: string, placedWithKey: (eventId: string, key: string) => Promise<boolean>,
): Promise<CheckoutState | undefined> {
  const state = readCheckout(req, eventId);
  if (!state?.token || !(await placedWithKey(eventId, placementKey(checkoutOwner(req), state.token)))) return state;
  writeCheckout(req, eventId, undefined);
  return undefined;
}

/** The buyer's checkout for an event as stored in the buyer's cookie, if any. */
export function readCheckout(req: FastifyRequest, eventId: string): CheckoutState | undefined {
  return req.buyer.data.shop?.[eventId];
}

/**
 * Stores the checkout; the cookie is sealed once at the end of the request. A checkout too large
 * for a cookie (a cart of very many products) is refused with VALIDATION_FAILED naming the cart.
 */
export function writeCheckout(req: FastifyRequest, eventId: string, state: CheckoutState | undefined): void {
  const all = withCheckout(req, eventId, state);
  req.buyer.set('shop', Object.keys(all).length ? all : undefined);
}

/** Throws what writeCheckout would throw for `state`, without writing (checked before holding tickets). */
export function assertCheckoutFits(req: FastifyRequest, eventId: string, state: CheckoutState): void {
  withCheckout(req, eventId, state);
}

function withCheckout(req: FastifyRequest, eventId: string, state: CheckoutState | undefined): Record<string, CheckoutState> {
  let all = { ...(req.buyer.data.shop ?? {}) };
  if (state) all[eventId] = state;
  else delete all[eventId];
  const fits = () => buyerDataBytes({ ...req.buyer.data, shop: all }) <= maxBuyerDataBytes;
  // Checkouts of other events left behind make room first (their holds run out by themselves).
  if (state && !fits()) all = { [eventId]: state };
  if (state && !fits()) {
    throw new KassaError('VALIDATION_FAILED', { field: 'cart', detail: 'the cart holds too many different products; please split the order' });
  }
  return all;
}

/**
 * Who owns a shop form's idempotency token (the confirm form's, the order page's pay form's): the
 * buyer's cookie id. A token submitted from another browser is refused, so a leaked form never
 * answers with someone else's order link.
 */
export function checkoutOwner(req: FastifyRequest): string {
  return buyerId(req);
}

/** A checkout with every step done: what placing the order needs. */
export type ReadyCheckout = CheckoutState & { email: string; payment: NonNullable<CheckoutState['payment']> };
