import type { FastifyRequest } from 'fastify';
import { KassaError, type Actor } from '@kassa/core/host';
import type { TokenPrincipal } from '../auth/api-token';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API token's organizer; set by the API's auth hook. */
    apiPrincipal?: TokenPrincipal;
  }
}

export function principalOf(req: FastifyRequest): TokenPrincipal {
  if (!req.apiPrincipal) throw new KassaError('AUTH_TOKEN_INVALID');
  return req.apiPrincipal;
}

/** The audit-log actor for an API call: the token, not a person. */
export function apiActor(req: FastifyRequest): Actor {
  return { type: 'api_token', id: principalOf(req).tokenId };
}
