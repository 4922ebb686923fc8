import type { FastifyRequest } from 'fastify';
import { isKassaError, type KassaError } from '@kassa/core/host';
import { toKassaError } from '../infra/error-handler';

/** Whether the client is a browser that wants the page back with the error shown in it. */
export function wantsHtml(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

/**
 * A buyer's form refusal: for browsers the caller re-renders the form with the message beside it
 * (same status as the catalogued error); other clients get the app's JSON error body, thrown to
 * the one error handler. Anything that is not a refusal (a bug, the database down) is rethrown.
 */
export function asRefusal(req: FastifyRequest, err: unknown): KassaError {
  const refusal = isKassaError(err) ? err : (err as { validation?: unknown }).validation ? toKassaError(err, req.id) : null;
  if (!refusal || !wantsHtml(req) || refusal.status >= 500) throw refusal && refusal.status < 500 ? refusal : err;
  return refusal;
}

/** The message and field the templates show for a refusal. */
export function errorView(err: KassaError | null | undefined): { code: string; message: string; field?: string } | null {
  if (!err) return null;
  const field = err.params.field;
  return { code: err.code, message: err.message, field: typeof field === 'string' ? field : undefined };
}
