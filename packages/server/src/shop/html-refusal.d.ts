import type { FastifyRequest } from 'fastify';
import { type KassaError } from '@kassa/core';
/** Whether the client is a browser that wants the page back with the error shown in it. */
export declare function wantsHtml(req: FastifyRequest): boolean;
/**
 * A buyer's form refusal: for browsers the caller re-renders the form with the message beside it
 * (same status as the catalogued error); other clients get the app's JSON error body, thrown to
 * the one error handler. Anything that is not a refusal (a bug, the database down) is rethrown.
 */
export declare function asRefusal(req: FastifyRequest, err: unknown): KassaError;
/** The message and field the templates show for a refusal. */
export declare function errorView(err: KassaError | null | undefined): {
    code: string;
    message: string;
    field?: string;
} | null;
