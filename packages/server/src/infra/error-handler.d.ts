import type { FastifyRequest } from 'fastify';
import { KassaError } from '@kassa/core';
/** The one JSON error body of the API: `{ error: { code, message, params } }`. */
export interface ErrorBody {
    error: {
        code: string;
        message: string;
        params: Record<string, unknown>;
    };
}
/**
 * Maps anything thrown by a route to a catalogued KassaError: schema validation → VALIDATION_FAILED
 * naming the field, CSRF → CSRF_INVALID, rate limit → RATE_LIMITED, unknown errors → INTERNAL_ERROR
 * (logged, message hidden so internals never reach a buyer).
 */
export declare function toKassaError(err: unknown, req: FastifyRequest): KassaError;
/** Installs the one error handler and the not-found handler for the whole app. */
export declare const errorHandlerPlugin: (app: import("fastify").FastifyInstance<import("fastify").RawServerDefault, import("http").IncomingMessage, import("http").ServerResponse<import("http").IncomingMessage>, import("fastify").FastifyBaseLogger, import("fastify").FastifyTypeProviderDefault>) => Promise<void>;
