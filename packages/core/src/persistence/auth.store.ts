import type { DataSource } from 'typeorm';
import {
  eventPermissions, organizerPermissions, teamPermissions, type EventPermission, type OrganizerPermission, type TeamPermission, type UserPermissions,
} from '../organizer/team-permissions';

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
  /** The organizer the user last worked in (app_user.last_organizer_id), the same on every row. */
  lastOrganizerId: string | null;
}

/** An API token as the control panel lists it (never its hash). */
export interface ApiTokenRow {
  id: string;
  name: string;
  active: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** The team permissions it holds. */
  permissions: TeamPermission[];
  allEvents: boolean;
  /** The chosen events (id and name) when not on all events. */
  events: { id: string; name: string }[];
}

/** What a token may do: team permissions, on all events or on chosen ones (of its organizer). */
export interface ApiTokenScope {
  permissions: readonly TeamPermission[];
  allEvents: boolean;
  eventIds: readonly string[];
}

/** An active token as the API's auth hook resolves it. */
export interface ActiveApiToken {
  id: string;
  organizerId: string;
  /** Its last use is older than a minute (the caller records a use at most once a minute). */
  stale: boolean;
  rights: UserPermissions;
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

  /** An active user's active organizers (through their teams), by organizer name then id; [] for an inactive or unknown user. */
  async memberships(userId: string): Promise<MembershipRow[]> {
    return this.ds.query(
      `SELECT u.id AS "userId", u.email, u.name, o.id AS "organizerId", o.name AS "organizerName", o.slug AS "organizerSlug",
              bool_or(t.is_admin OR t.can_change_organizer_settings) AS "isAdmin", u.is_operator AS "isOperator",
              u.last_organizer_id AS "lastOrganizerId"
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

  /** Records the organizer a user now works in (login, switching, accepting an invitation). */
  async setLastOrganizer(userId: string, organizerId: string): Promise<void> {
    await this.ds.query('UPDATE app_user SET last_organizer_id = $2 WHERE id = $1 AND last_organizer_id IS DISTINCT FROM $2', [userId, organizerId]);
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

  /**
   * Stores a new token (its hash only) for an organizer with what it may do (every permission on
   * all events when no scope is given). Event ids of another organizer are dropped, never stored.
   */
  async createApiToken(organizerId: string, name: string, tokenHash: string, scope?: ApiTokenScope): Promise<string> {
    const permissions = scope ? teamPermissions.filter((p) => scope.permissions.includes(p)) : [...teamPermissions];
    const allEvents = scope?.allEvents ?? true;
    return this.ds.transaction(async (tx) => {
      const rows: { id: string }[] = await tx.query(
        'INSERT INTO api_token (organizer_id, name, token_hash, permissions, all_events) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [organizerId, name, tokenHash, permissions, allEvents],
      );
      const id = rows[0]!.id;
      if (!allEvents && scope && scope.eventIds.length > 0) {
        await tx.query(
          'INSERT INTO api_token_event (token_id, event_id) SELECT $1, id FROM event WHERE organizer_id = $2 AND id = ANY($3::uuid[]) ON CONFLICT DO NOTHING',
          [id, organizerId, [...scope.eventIds]]);
      }
      return id;
    });
  }

  /** Revokes one of the organizer's tokens; false when no such token belongs to it. */
  async revokeApiToken(organizerId: string, tokenId: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      'WITH t AS (UPDATE api_token SET active = false WHERE id = $1 AND organizer_id = $2 RETURNING id) SELECT id FROM t', [tokenId, organizerId]);
    return rows.length > 0;
  }

  /** The organizer's tokens, newest first. */
  async listApiTokens(organizerId: string): Promise<ApiTokenRow[]> {
    const rows: (Omit<ApiTokenRow, 'events' | 'permissions'> & { permissions: string[]; events: { id: string; name: string }[] | null })[] = await this.ds.query(
      `SELECT t.id, t.name, t.active, t.created_at AS "createdAt", t.last_used_at AS "lastUsedAt", t.permissions, t.all_events AS "allEvents",
              (SELECT json_agg(json_build_object('id', e.id, 'name', e.name) ORDER BY e.name, e.id)
                 FROM api_token_event te JOIN event e ON e.id = te.event_id WHERE te.token_id = t.id) AS events
         FROM api_token t WHERE t.organizer_id = $1 ORDER BY t.created_at DESC, t.id`,
      [organizerId],
    );
    return rows.map((r) => ({ ...r, permissions: teamPermissions.filter((p) => r.permissions.includes(p)), events: r.allEvents ? [] : r.events ?? [] }));
  }

  /** The active token with this hash (of an active organizer) and its rights, or null. */
  async activeApiToken(tokenHash: string): Promise<ActiveApiToken | null> {
    const rows: { id: string; organizer_id: string; stale: boolean; permissions: string[]; all_events: boolean; event_ids: string[] | null }[] = await this.ds.query(
      `SELECT t.id, t.organizer_id, (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS stale, t.permissions, t.all_events,
              (SELECT array_agg(te.event_id) FROM api_token_event te WHERE te.token_id = t.id) AS event_ids
         FROM api_token t WHERE t.token_hash = $1 AND t.active
          AND t.organizer_id IN (SELECT id FROM organizer WHERE is_active)`, [tokenHash],
    );
    const row = rows[0];
    if (!row) return null;
    const organizer = new Set<OrganizerPermission>(organizerPermissions.filter((p) => row.permissions.includes(p)));
    const events = {} as Record<EventPermission, 'all' | ReadonlySet<string>>;
    for (const p of eventPermissions) events[p] = !row.permissions.includes(p) ? new Set() : row.all_events ? 'all' : new Set(row.event_ids ?? []);
    return { id: row.id, organizerId: row.organizer_id, stale: row.stale, rights: { organizer, events } };
  }

  async touchApiToken(tokenId: string): Promise<void> {
    await this.ds.query('UPDATE api_token SET last_used_at = now() WHERE id = $1', [tokenId]);
  }
}
