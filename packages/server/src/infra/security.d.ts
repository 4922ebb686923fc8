import type { DataSource } from '@kassa/core';
declare module 'fastify' {
    interface Session {
        /** Logged-in control-panel user. */
        userId?: string;
        /** The organizer the user works in (one of their teams' organizers). */
        organizerId?: string;
        /** One-shot message shown on the next page. */
        flash?: {
            kind: 'success' | 'error' | 'warning' | 'info';
            message: string;
        };
    }
    interface FastifyContextConfig {
        /** Set to false on routes that are not cookie-authenticated (API with Bearer tokens, webhooks). */
        csrf?: boolean;
    }
}
/** Content-Security-Policy additions a provider declares (BasePaymentProvider.contentSecurityPolicy). */
export interface CspAdditions {
    scriptSrc?: string[];
    frameSrc?: string[];
    connectSrc?: string[];
}
export interface SecurityOptions {
    dataSource: DataSource;
    baseUrl: string;
    /** Signs the session cookie; at least 32 characters. */
    sessionSecret: string;
    /** Origins the enabled providers need (Stripe.js and its frames, for instance). */
    csp?: CspAdditions;
    now?: () => Date;
}
/** Session lifetime: a working day. Not rolling, so reading a page never writes the session row. */
export declare const sessionMaxAgeMs: number;
/**
 * Cookies, PostgreSQL-backed sessions, CSRF on every state-changing request that is
 * cookie-authenticated, security headers with a CSP of our origin plus the providers' origins,
 * and the rate limiter (opt-in per route through `config.rateLimit`).
 */
export declare const securityPlugin: import("fastify").FastifyPluginCallback<SecurityOptions, import("fastify").RawServerDefault, import("fastify").FastifyTypeProviderDefault, import("fastify").FastifyBaseLogger>;
/** Per-route rate limits (`config: { rateLimit: rateLimits.login }`). */
export declare const rateLimits: {
    /** Password guessing: a handful of attempts per minute and address. */
    readonly login: {
        readonly max: 10;
        readonly timeWindow: "1 minute";
    };
    /** Placing orders: generous for a real buyer, a wall for a script. */
    readonly placeOrder: {
        readonly max: 30;
        readonly timeWindow: "1 minute";
    };
};
/** Merges the CSP additions of several providers, without duplicates. */
export declare function mergeCsp(parts: readonly CspAdditions[]): CspAdditions;
