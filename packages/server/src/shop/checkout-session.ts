import type { FastifyRequest } from 'fastify';
import { placementKey } from './submission-store';

/** One cart line: which product and how many. Prices are never stored here: they are read from the product when needed. */
export interface CartLine {
  productId: string;
  quantity: number;
}

/** The buyer's checkout for one event, kept server-side in the session (never in a hidden field). */
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

declare module 'fastify' {
  interface Session {
    /** The shop's checkouts, keyed by event id, so two tabs on two events do not mix carts. */
    shop?: Record<string, CheckoutState>;
  }
}

/**
 * The buyer's checkout for an event, unless its confirm form has placed an order: then it is
 * cleared now. Placing the order does not write the session (the confirm POST is the hot path of
 * a sale and the order carries the form's token as its idempotency key), so the first page of the
 * checkout the buyer opens afterwards notices, with one indexed read, only for a checkout that
 * reached the confirm page.
 */
export async function liveCheckout(
  req: FastifyRequest, eventId: string, placedWithKey: (eventId: string, key: string) => Promise<boolean>,
): Promise<CheckoutState | undefined> {
  const state = readCheckout(req, eventId);
  if (!state?.token || !(await placedWithKey(eventId, placementKey(sessionOwner(req), state.token)))) return state;
  writeCheckout(req, eventId, undefined);
  return undefined;
}

/** The buyer's checkout for an event as stored in the session, if any. */
export function readCheckout(req: FastifyRequest, eventId: string): CheckoutState | undefined {
  return req.session.shop?.[eventId];
}

/** Stores the checkout; @fastify/session writes the row once at the end of the request. */
export function writeCheckout(req: FastifyRequest, eventId: string, state: CheckoutState | undefined): void {
  const all = { ...(req.session.shop ?? {}) };
  if (state) all[eventId] = state;
  else delete all[eventId];
  req.session.set('shop', all);
}

/**
 * Who owns an idempotency token: the session id. A token submitted from another session is refused,
 * so a leaked form never answers with someone else's order link.
 */
export function sessionOwner(req: FastifyRequest): string {
  return req.session.sessionId;
}

/** A checkout with every step done: what placing the order needs. */
export type ReadyCheckout = CheckoutState & { email: string; payment: NonNullable<CheckoutState['payment']> };
