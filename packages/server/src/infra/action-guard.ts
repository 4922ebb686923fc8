import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ActionKeyScope, ActionKeyService } from '@kassa/core/host';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route moves money or changes an order's state: its form must carry the page's one-time
     * action key (field `_actionKey`). See installActionGuard.
     */
    actionKey?: boolean;
  }
  interface FastifyRequest {
    /** The action key this request claimed (given back if the request is refused). */
    claimedActionKey?: string;
  }
}

/** The form field that carries the one-time key; JSON callers may send the header instead. */
export const ACTION_KEY_FIELD = '_actionKey';
export const ACTION_KEY_HEADER = 'x-kassa-action-key';

/** A body schema property for the key; every guarded route's body schema lists it. */
export const actionKeyProperty = { [ACTION_KEY_FIELD]: { type: 'string', maxLength: 64 } } as const;

/** The key a request carries: the form field, else the header. */
export function actionKeyOf(req: { readonly headers: Readonly<Record<string, unknown>>; readonly body?: unknown }): unknown {
  const fromBody = (req.body as Record<string, unknown> | undefined)?.[ACTION_KEY_FIELD];
  return fromBody ?? req.headers[ACTION_KEY_HEADER];
}

/**
 * Guards every route of this (encapsulated) context whose config says `actionKey: true`: after
 * CSRF, schema validation and the route's scope (`scopeOf`, which answers NOT_FOUND for another
 * organizer's order before the key is looked at), the key is claimed, so of two submits of one
 * form only the first reaches the handler; the second is refused with ACTION_KEY_INVALID and moves
 * nothing. A request answered with a refusal (4xx: a form shown again with its errors, or a
 * catalogued refusal) gives its key back, so the corrected form can be sent again; a success or
 * a server-side failure keeps it used, since money may have moved.
 */
export function installActionGuard(
  app: FastifyInstance, actionKeys: ActionKeyService, scopeOf: (req: FastifyRequest) => Promise<ActionKeyScope>,
): void {
  app.addHook('preHandler', async (req) => {
    if (req.routeOptions.config?.actionKey !== true) return;
    const scope = await scopeOf(req);
    req.claimedActionKey = await actionKeys.claim(actionKeyOf(req), scope);
  });
  app.addHook('onSend', async (req, reply: FastifyReply, payload) => {
    await releaseIfRefused(actionKeys, req.claimedActionKey, reply.statusCode);
    return payload;
  });
}

/** Gives a claimed key back when the answer was a refusal (4xx). */
export async function releaseIfRefused(actionKeys: ActionKeyService, key: string | undefined, status: number): Promise<void> {
  if (key && status >= 400 && status < 500) await actionKeys.release(key);
}
