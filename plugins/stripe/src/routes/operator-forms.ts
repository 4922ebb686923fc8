import { KassaError, type PluginHttpRequest } from '@kassa/core';

/*
 * What the Stripe plugin's operator pages (Connect's and the instance account's) share: the
 * operator check and the form's request id, drawn with the page and used as the row id and the
 * idempotency key of the Stripe call, so a double submit acts once.
 */

export type OperatorRequest = PluginHttpRequest<Record<string, string>, Record<string, unknown> | undefined>;

export const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Defence in depth: the host checks the route's 'operator' permission before the handler runs. */
export function operatorOnly(req: OperatorRequest): void {
  if (req.isOperator !== true) throw new KassaError('NOT_FOUND', { entity: 'Page' });
}

/** A trimmed text field of the posted form ('' when absent or not text). */
export function formField(req: OperatorRequest, name: string): string {
  const v = (req.body ?? {})[name];
  return typeof v === 'string' ? v.trim() : '';
}

/** The form's request id; a missing or malformed one is a 400 naming it. */
export function requestIdOf(req: OperatorRequest): string {
  const id = formField(req, 'requestId');
  if (!uuid.test(id)) throw new KassaError('VALIDATION_FAILED', { field: 'requestId', detail: 'requestId: reload the page (the form\'s request id is missing or malformed)' });
  return id;
}
