import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { KassaError } from '@kassa/core/host';
import { buyerId, maxBuyerDataBytes } from '../infra/buyer-session';
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
  /**
   * The confirm form's token as an earlier version stored it (it wrote the cookie on every confirm
   * page). Now derived from the checkout (confirmToken) and never written; a stored one is still
   * honoured until the payment step clears it, so a checkout begun before an upgrade completes.
   */
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
 * form must still carry the same checkout, and the order carries its token as its idempotency key),
 * so a page of the checkout the buyer opens afterwards notices, with one indexed read, and only for
 * a checkout complete enough to have been confirmed.
 *
 * `heldAt` (the confirm page): a checkout whose hold has not run out yet is taken as it is, without
 * the read. Were its order placed already, the page shows the same checkout again and its form
 * answers with that order (same token, same idempotency key); the read would cost every order a
 * statement. Once the hold has run out the read is made, so a placed cart is never held again.
 */
export async function liveCheckout(
  req: FastifyRequest, eventId: string, placedWithKey: (eventId: string, key: string) => Promise<boolean>, heldAt?: Date,
): Promise<CheckoutState | undefined> {
  const state = readCheckout(req, eventId);
  if (!state || !(state.token || (state.email && state.payment))) return state;
  if (heldAt && state.cartId && state.heldUntil && new Date(state.heldUntil) > heldAt) return state;
  if (!(await placedWithKey(eventId, placementKey(checkoutOwner(req), confirmToken(state))))) return state;
  writeCheckout(req, eventId, undefined);
  return undefined;
}

/**
 * The confirm form's idempotency token for a checkout, derived from everything its order is made
 * of: the cart and its hold (a new cart, even of the same tickets, is a new hold), the email, the
 * country and the payment choice. Every confirm page of an unchanged checkout shows the same token,
 * so a reload, a double click and a resubmit name the same order, and showing the page writes
 * nothing; any change (another tab, a renewed hold) makes another token, so a confirm form shown
 * before it is refused and the new summary shown. UUID-shaped (the form's schema), never secret:
 * it names an order only together with the buyer's cookie id (placementKey).
 */
export function confirmToken(state: CheckoutState): string {
  if (state.token) return state.token;
  const hex = createHash('sha256')
    .update(JSON.stringify([state.cartId ?? null, state.heldUntil ?? null, state.lines, state.email ?? null, state.country ?? null, state.payment ?? null]))
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
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
  // Checkouts of other events left behind make room first (their holds run out by themselves).
  // Measured once when it fits (the measured JSON is what the cookie's seal then uses).
  if (state && !fitsCookie(req, all)) {
    all = { [eventId]: state };
    if (!fitsCookie(req, all)) throw new KassaError('VALIDATION_FAILED', { field: 'cart', detail: 'the cart holds too many different products; please split the order' });
  }
  return all;
}

function fitsCookie(req: FastifyRequest, all: Record<string, CheckoutState>): boolean {
  return req.buyer.bytesWith('shop', all) <= maxBuyerDataBytes;
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
