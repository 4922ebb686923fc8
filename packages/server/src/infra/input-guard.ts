import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { findUnstorableInput, KassaError } from '@kassa/core/host';

type Part = 'querystring' | 'params' | 'body';

/** Throws VALIDATION_FAILED naming the field when `value` (a request part) cannot be stored. */
export function checkInput(part: Part, value: unknown): void {
  const found = findUnstorableInput(value);
  if (!found) return;
  const field = found.path || part;
  throw new KassaError('VALIDATION_FAILED', { field, in: part, detail: `${part}.${field} ${found.problem}` });
}

function checkAll(req: FastifyRequest): void {
  // A route with attachValidation re-renders its form with the body's errors; a malformed id in the
  // path or a bad query string is no form error, and must not reach a lookup (PostgreSQL refuses a
  // malformed uuid with an error, not an empty result).
  const context = req.validationError?.validationContext;
  if (context === 'params' || context === 'querystring') throw req.validationError;
  checkInput('querystring', req.query);
  checkInput('params', req.params);
  checkInput('body', req.body);
}

function guarded(done: (err?: Error) => void, check: () => void): void {
  try {
    check();
  } catch (err) {
    return done(err as Error);
  }
  done();
}

/**
 * Refuses, for every route of the scope it is registered in, input that a schema lets through but
 * that cannot be stored (see findUnstorableInput: a NUL character, a number that is not finite or
 * beyond 2^53) with 400 VALIDATION_FAILED naming the field, instead of a 500 from PostgreSQL later.
 * Three points, because each part of a request becomes available (and changes) at its own time:
 * - onRequest: query string and path parameters, before any route hook looks something up with them;
 * - preValidation: the parsed body (JSON or form), before any handler sees it;
 * - preHandler: all three again after schema validation, because ajv's coercion makes numbers out
 *   of text ("1e400" in a query string or form field becomes Infinity, which `type: integer` accepts);
 *   and a path or query error that a route's attachValidation would hand to its handler is thrown.
 * Provider webhooks are mounted outside the site's scope: their raw body is the provider's to judge.
 */
export const inputGuardPlugin = fp(async (app) => {
  // Callback hooks: a check costs no promise per request.
  app.addHook('onRequest', (req, _reply, done) => guarded(done, () => {
    checkInput('querystring', req.query);
    checkInput('params', req.params);
  }));
  app.addHook('preValidation', (req, _reply, done) => guarded(done, () => checkInput('body', req.body)));
  app.addHook('preHandler', (req, _reply, done) => guarded(done, () => checkAll(req)));
}, { name: 'kassa-input-guard' });
