import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable, isKassaError, KassaError } from '@kassa/core/host';

/** The one JSON error body of the API: `{ error: { code, message, params } }`. */
export interface ErrorBody {
  error: { code: string; message: string; params: Record<string, unknown> };
}

/** The JSON body of an error; an internal error names only its request id (never its message's internals). */
export function errorBody(err: KassaError, requestId: string): ErrorBody {
  return { error: { code: err.code, message: err.message, params: err.code === 'INTERNAL_ERROR' ? { requestId } : { ...err.params } } };
}

/** JSON for the API and for clients that do not ask for HTML; a friendly page for browsers. */
function wantsJson(req: FastifyRequest): boolean {
  if (req.url.startsWith('/api/')) return true;
  const accept = req.headers.accept ?? '';
  return !accept.includes('text/html');
}

/**
 * Maps anything thrown by a route to a catalogued KassaError: schema validation → VALIDATION_FAILED
 * naming the field, CSRF → CSRF_INVALID, rate limit → RATE_LIMITED, a database that cannot be
 * reached → DATABASE_UNAVAILABLE (503), unknown errors → INTERNAL_ERROR
 * (logged, message hidden so internals never reach a buyer).
 */
export function toKassaError(err: unknown, requestId: string): KassaError {
  if (isKassaError(err)) return err;
  const e = err as FastifyError & { validation?: { instancePath?: string; params?: Record<string, unknown>; message?: string }[] };
  if (e.validation && e.validation.length > 0) {
    const first = e.validation[0]!;
    const missing = first.params?.missingProperty as string | undefined;
    const additional = first.params?.additionalProperty as string | undefined;
    const pathField = (first.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const field = missing ?? additional ?? (pathField || e.validationContext || 'input');
    const where = e.validationContext ? `${e.validationContext}.${field}` : field;
    const detail = additional ? `${where} is not allowed` : `${where} ${first.message ?? 'is invalid'}`;
    return new KassaError('VALIDATION_FAILED', { field, in: e.validationContext, detail });
  }
  if (e.code === 'FST_CSRF_INVALID_TOKEN' || e.code === 'FST_CSRF_MISSING_SECRET') return new KassaError('CSRF_INVALID');
  if (e.statusCode === 429) return new KassaError('RATE_LIMITED', { retryAfter: String((e as { retryAfter?: unknown }).retryAfter ?? 'a minute') });
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (e.statusCode === 400 && e.code?.startsWith('FST_ERR_CTP'))) {
    return new KassaError('VALIDATION_FAILED', { field: 'body', detail: e.message });
  }
  if (e.statusCode === 400 && e instanceof SyntaxError) return new KassaError('VALIDATION_FAILED', { field: 'body', detail: 'body is not valid JSON' });
  if (e.statusCode === 413) return new KassaError('VALIDATION_FAILED', { field: 'body', detail: 'body is too large' });
  // A database that is down or restarting: 503 with Retry-After, so clients and proxies retry.
  if (isDatabaseUnavailable(err)) return new KassaError('DATABASE_UNAVAILABLE', {}, { cause: err });
  return new KassaError('INTERNAL_ERROR', { requestId }, { cause: err });
}

async function send(req: FastifyRequest, reply: FastifyReply, err: KassaError): Promise<FastifyReply> {
  reply.status(err.status);
  if (err.code === 'RATE_LIMITED' && !reply.getHeader('retry-after')) reply.header('retry-after', '60');
  if (err.code === 'DATABASE_UNAVAILABLE') reply.header('retry-after', '5');
  if (wantsJson(req)) {
    return reply.type('application/json; charset=utf-8').send(errorBody(err, req.id));
  }
  try {
    const html = await reply.viewAsync('layouts/error', { status: err.status, code: err.code, message: err.message, title: titleFor(err.status) });
    return reply.type('text/html; charset=utf-8').send(html);
  } catch (renderErr) {
    // A broken template must not hide the original error behind a second one.
    req.log.error({ err: renderErr }, 'error page failed to render');
    return reply.type('text/plain; charset=utf-8').send(`${err.status} ${err.message}`);
  }
}

function titleFor(status: number): string {
  if (status === 404) return 'Not found';
  if (status === 401) return 'Please log in';
  if (status === 403) return 'Refused';
  if (status === 429) return 'Slow down';
  if (status >= 500) return 'Something went wrong';
  return 'That did not work';
}

/** Installs the one error handler and the not-found handler for the whole app. */
export const errorHandlerPlugin = fp(async (app) => {
  app.setErrorHandler(async (err, req, reply) => {
    const kassa = toKassaError(err, req.id);
    if (kassa.code === 'INTERNAL_ERROR') req.log.error({ err }, 'unhandled error');
    else if (kassa.status >= 500) req.log.error({ err: kassa }, kassa.message);
    return send(req, reply, kassa);
  });
  app.setNotFoundHandler(async (req, reply) =>
    send(req, reply, new KassaError('ROUTE_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] })));
}, { name: 'kassa-error-handler', dependencies: ['kassa-views'] });
