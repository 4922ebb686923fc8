import { createHash, randomBytes } from 'node:crypto';
import { KassaError, type DataSource } from '@kassa/core/host';

/** What a valid Bearer token grants: one organizer's API. */
export interface TokenPrincipal {
  tokenId: string;
  organizerId: string;
}

const prefix = 'kassa_';

/** SHA-256 hex of a token: what is stored. Tokens are 256 random bits, so a fast hash suffices (no guessing). */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Creates a token for an organizer and returns its plaintext once; only the hash is stored.
 * @example const { token } = await createApiToken(ds, organizer.id, 'Box office sync');
 */
export async function createApiToken(ds: DataSource, organizerId: string, name: string): Promise<{ id: string; token: string }> {
  const token = `${prefix}${randomBytes(32).toString('base64url')}`;
  const rows: { id: string }[] = await ds.query(
    'INSERT INTO api_token (organizer_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id', [organizerId, name, hashApiToken(token)],
  );
  return { id: rows[0]!.id, token };
}

/**
 * Revokes one of the organizer's tokens; false when no such token belongs to it.
 * (TypeORM answers an UPDATE … RETURNING with [rows, count], hence the explicit shape.)
 */
export async function revokeApiToken(ds: DataSource, organizerId: string, tokenId: string): Promise<boolean> {
  const [rows] = (await ds.query('UPDATE api_token SET active = false WHERE id = $1 AND organizer_id = $2 RETURNING id', [tokenId, organizerId])) as [unknown[], number];
  return rows.length > 0;
}

/** Resolves `Authorization: Bearer <token>`; AUTH_TOKEN_INVALID when missing, unknown or revoked. */
export async function authenticateApiToken(ds: DataSource, authorization: string | undefined): Promise<TokenPrincipal> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m || !m[1]!.startsWith(prefix)) throw new KassaError('AUTH_TOKEN_INVALID');
  const rows: { id: string; organizer_id: string; stale: boolean }[] = await ds.query(
    `SELECT id, organizer_id, (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
       FROM api_token WHERE token_hash = $1 AND active`, [hashApiToken(m[1]!)],
  );
  const row = rows[0];
  if (!row) throw new KassaError('AUTH_TOKEN_INVALID');
  // At most one write a minute per token: an API client's reads should not each write a row.
  if (row.stale) await ds.query('UPDATE api_token SET last_used_at = now() WHERE id = $1', [row.id]);
  return { tokenId: row.id, organizerId: row.organizer_id };
}
