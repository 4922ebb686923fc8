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
    payment?: {
        provider: string;
        session: Record<string, unknown>;
    };
    /** The idempotency token of the confirm form currently shown. */
    token?: string;
}
declare module 'fastify' {
    interface Session {
        /** The shop's checkouts, keyed by event id, so two tabs on two events do not mix carts. */
        shop?: Record<string, CheckoutState>;
    }
}
/** The buyer's checkout for an event, if any. */
export declare function readCheckout(req: FastifyRequest, eventId: string): CheckoutState | undefined;
/** Stores the checkout; @fastify/session writes the row once at the end of the request. */
export declare function writeCheckout(req: FastifyRequest, eventId: string, state: CheckoutState | undefined): void;
/**
 * Who owns an idempotency token: the session id. A token submitted from another session is refused,
 * so a leaked form never answers with someone else's order link.
 */
export declare function sessionOwner(req: FastifyRequest): string;
/** A checkout with every step done: what placing the order needs. */
export type ReadyCheckout = CheckoutState & {
    email: string;
    payment: NonNullable<CheckoutState['payment']>;
};
