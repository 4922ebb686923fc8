import type { FastifyRequest } from 'fastify';

/** One cart line: which product and how many. Prices are never stored here: they are read from the product when needed. */
export interface CartLine {
  productId: string;
  quantity: number;
}

/** The buyer's checkout for one event, kept server-side in the session (never in a hidden field). */
export interface CheckoutState {
  lines: CartLine[];
  email?: string;
  /** The chosen method and what its checkoutPrepare returned. */
  payment?: { provider: string; session: Record<string, unknown> };
  /** The idempotency token of the confirm form currently shown. */
  token?: string;
  /**
   * The order this checkout placed, kept (with no lines left) so that a resubmit of the confirm
   * form, which carries the same cookie, is answered from the session: same token, same redirect.
   */
  placed?: PlacedCheckout;
}

/** Where the confirm form with `token` sent the buyer. */
export interface PlacedCheckout {
  token: string;
  redirect: string;
  orderId: string | null;
}

declare module 'fastify' {
  interface Session {
    /** The shop's checkouts, keyed by event id, so two tabs on two events do not mix carts. */
    shop?: Record<string, CheckoutState>;
  }
}

/** The buyer's checkout for an event, if any. */
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
