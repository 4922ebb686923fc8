import type { DataSource } from 'typeorm';

/** A user's membership in one organizer, as the session's user is loaded per request. */
export interface MembershipRow {
  userId: string;
  email: string;
  name: string;
  organizerId: string;
  organizerName: string;
  organizerSlug: string;
  /** May change the organizer's settings (an admin team, or a team with that permission). */
  isAdmin: boolean;
  isOperator: boolean;
}

/** An API token as the control panel lists it (never its hash). */
export interface ApiTokenRow {
  id: string;
  name: string;
  active: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/**
 * Users, teams, API tokens and instance operators: the reads and writes behind login, the
 * per-request session user and Bearer tokens. Hashing and the refusals are the caller's; this
 * store only stores. Tokens are scoped by organizer: another organizer's token id changes nothing.
 */
export class AuthStore {
  constructor(private readonly ds: DataSource) {}

  /** An active user's id and password hash by email (case-insensitive), or null. */
  async credentials(email: string): Promise<{ id: string; passwordHash: string } | null> {
    const rows: { id: string; password_hash: string }[] = await this.ds.query(
      'SELECT id, password_hash FROM app_user WHERE lower(email) = lower($1) AND is_active', [email.trim()],
    );
    return rows[0] ? { id: rows[0].id, passwordHash: rows[0].password_hash } : null;
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.ds.query('UPDATE app_user SET password_hash = $2 WHERE id = $1', [userId, passwordHash]);
  }

  /** An active user's active organizers (through their teams), by organizer name; [] for an inactive or unknown user. */
  async memberships(userId: string): Promise<MembershipRow[]> {
    return this.ds.query(
      `SELECT u.id AS "userId", u.email, u.name, o.id AS "organizerId", o.name AS "organizerName", o.slug AS "organizerSlug",
              bool_or(t.is_admin OR t.can_change_organizer_settings) AS "isAdmin", u.is_operator AS "isOperator"
         FROM app_user u
         JOIN team_member m ON m.user_id = u.id
         JOIN team t ON t.id = m.team_id
         JOIN organizer o ON o.id = t.organizer_id
        WHERE u.id = $1 AND u.is_active AND o.is_active
        GROUP BY u.id, o.id
        ORDER BY o.name, o.id`,
      [userId],
    );
  }

  /** Grants or withdraws the instance operator flag; false when no user has that email. */
  async setOperator(email: string, operator: boolean): Promise<boolean> {
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE … RETURNING with [rows, count].
    const rows: unknown[] = await this.ds.query(
      'WITH u AS (UPDATE app_user SET is_operator = $2 WHERE lower(email) = lower($1) RETURNING id) SELECT id FROM u', [email.trim(), operator]);
    return rows.length > 0;
  }

  /** An active operator's id, email and name, or null (operators outside any team log in to the admin area only). */
  async activeOperator(userId: string): Promise<{ id: string; email: string; name: string } | null> {
    const rows: { id: string; email: string; name: string }[] = await this.ds.query(
      'SELECT id, email, name FROM app_user WHERE id = $1 AND is_active AND is_operator', [userId]);
    return rows[0] ?? null;
  }

  /** E-mail addresses of the instance's operators. */
  async operatorEmails(): Promise<string[]> {
    const rows: { email: string }[] = await this.ds.query('SELECT email FROM app_user WHERE is_operator ORDER BY email');
    return rows.map((r) => r.email);
  }

  /** Stores a new token (its hash only) for an organizer. */
  async createApiToken(organizerId: string, name: string, tokenHash: string): Promise<string> {
    const rows: { id: string }[] = await this.ds.query(
      'INSERT INTO api_token (organizer_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id', [organizerId, name, tokenHash],
    );
    return rows[0]!.id;
  }

  /** Revokes one of the organizer's tokens; false when no such token belongs to it. */
  async revokeApiToken(organizerId: string, tokenId: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      'WITH t AS (UPDATE api_token SET active = false WHERE id = $1 AND organizer_id = $2 RETURNING id) SELECT id FROM t', [tokenId, organizerId]);
    return rows.length > 0;
  }

  /** The organizer's tokens, newest first. */
  listApiTokens(organizerId: string): Promise<ApiTokenRow[]> {
    return this.ds.query(
      'SELECT id, name, active, created_at AS "createdAt", last_used_at AS "lastUsedAt" FROM api_token WHERE organizer_id = $1 ORDER BY created_at DESC',
      [organizerId],
    );
  }

  /**
   * The active token with this hash, and whether its last use is older than a minute (so the
   * caller records a use at most once a minute per token), or null.
   */
  async activeApiToken(tokenHash: string): Promise<{ id: string; organizerId: string; stale: boolean } | null> {
    const rows: { id: string; organizer_id: string; stale: boolean }[] = await this.ds.query(
      `SELECT id, organizer_id, (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
         FROM api_token WHERE token_hash = $1 AND active
          AND organizer_id IN (SELECT id FROM organizer WHERE is_active)`, [tokenHash],
    );
    const row = rows[0];
    return row ? { id: row.id, organizerId: row.organizer_id, stale: row.stale } : null;
  }

  async touchApiToken(tokenId: string): Promise<void> {
    await this.ds.query('UPDATE api_token SET last_used_at = now() WHERE id = $1', [tokenId]);
  }
}
