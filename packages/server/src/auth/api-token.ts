import { createHash, randomBytes } from 'node:crypto';
import { AuthStore, KassaError, type ApiTokenScope, type DataSource, type UserPermissions } from '@kassa/core/host';

/** What a valid Bearer token grants: one organizer's API, within the token's permissions. */
export interface TokenPrincipal {
  tokenId: string;
  organizerId: string;
  /** The token's permissions, shaped like a user's (auth/permissions.ts checks routes against them). */
  permissions: UserPermissions;
}

const prefix = 'kassa_';

/** SHA-256 hex of a token: what is stored. Tokens are 256 random bits, so a fast hash suffices (no guessing). */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Creates a token for an organizer and returns its plaintext once; only the hash is stored. Without
 * a scope it holds every permission on all events.
 * @example const { token } = await createApiToken(ds, organizer.id, 'Box office sync', { permissions: ['event.orders.view'], allEvents: true, eventIds: [] });
 */
export async function createApiToken(ds: DataSource, organizerId: string, name: string, scope?: ApiTokenScope): Promise<{ id: string; token: string }> {
  const token = `${prefix}${randomBytes(32).toString('base64url')}`;
  const id = await new AuthStore(ds).createApiToken(organizerId, name, hashApiToken(token), scope);
  return { id, token };
}

/** Revokes one of the organizer's tokens; false when no such token belongs to it. */
export function revokeApiToken(ds: DataSource, organizerId: string, tokenId: string): Promise<boolean> {
  return new AuthStore(ds).revokeApiToken(organizerId, tokenId);
}

/** Resolves `Authorization: Bearer <token>`; AUTH_TOKEN_INVALID when missing, unknown or revoked. */
export async function authenticateApiToken(ds: DataSource, authorization: string | undefined): Promise<TokenPrincipal> {
  const store = new AuthStore(ds);
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m || !m[1]!.startsWith(prefix)) throw new KassaError('AUTH_TOKEN_INVALID');
  const row = await store.activeApiToken(hashApiToken(m[1]!));
  if (!row) throw new KassaError('AUTH_TOKEN_INVALID');
  // At most one write a minute per token: an API client's reads should not each write a row.
  if (row.stale) await store.touchApiToken(row.id);
  return { tokenId: row.id, organizerId: row.organizerId, permissions: row.rights };
}
