import type { DataSource, EntityManager } from 'typeorm';
import { KassaError } from '../errors';
import {
  eventPermissions, organizerPermissions, permissionColumns, teamPermissions, type EventPermission, type OrganizerPermission, type TeamPermission,
  type UserPermissions,
} from '../organizer/team-permissions';

/** A team as the team pages show it. `permissions` are the effective ones (an is_admin team has all). */
export interface TeamRow {
  id: string;
  organizerId: string;
  name: string;
  allEvents: boolean;
  permissions: TeamPermission[];
  eventIds: string[];
  members: { id: string; email: string; name: string }[];
  invites: { id: string; email: string; expiresAt: Date }[];
}

/** What a team form writes. Event ids of another organizer are dropped, never stored. */
export interface TeamInput {
  name: string;
  allEvents: boolean;
  permissions: readonly TeamPermission[];
  eventIds: readonly string[];
}

/** An open invitation, looked up by its token's hash. */
export interface InviteRow {
  id: string;
  teamId: string;
  teamName: string;
  organizerId: string;
  organizerName: string;
  email: string;
  expiresAt: Date;
}

const flagsSql = teamPermissions.map((p) => `t.${permissionColumns[p]}`).join(', ');
/** An admin: a user who may change teams (so there is always someone to invite the next one). */
const adminTeamSql = '(t.is_admin OR t.can_change_teams)';

type TeamDbRow = { id: string; organizer_id: string; name: string; all_events: boolean; is_admin: boolean } & Record<string, unknown>;

/**
 * Teams, their members, their events and invitations. Every method takes the organizer and
 * answers null/false for another organizer's team, so a route can turn that into NOT_FOUND. Any
 * change that could take the organizer's last admin away runs under a lock on the organizer row
 * and is refused with TEAM_LAST_ADMIN (rolled back) when it would.
 */
export class TeamStore {
  constructor(private readonly ds: DataSource) {}

  /** The union of a user's teams in one active organizer. */
  async permissionsOf(userId: string, organizerId: string): Promise<UserPermissions> {
    const rows: (TeamDbRow & { event_ids: string[] | null })[] = await this.ds.query(
      `SELECT t.id, t.all_events, t.is_admin, ${flagsSql},
              (SELECT array_agg(te.event_id) FROM team_event te WHERE te.team_id = t.id) AS event_ids
         FROM team t JOIN team_member m ON m.team_id = t.id JOIN organizer o ON o.id = t.organizer_id
        WHERE m.user_id = $1 AND t.organizer_id = $2 AND o.is_active`,
      [userId, organizerId],
    );
    const organizer = new Set<OrganizerPermission>();
    const events: Record<EventPermission, 'all' | Set<string>> = { 'event.settings': new Set(), 'event.orders.view': new Set(), 'event.orders.change': new Set() };
    for (const row of rows) {
      const held = (p: TeamPermission) => row.is_admin || row[permissionColumns[p]] === true;
      for (const p of organizerPermissions) if (held(p)) organizer.add(p);
      for (const p of eventPermissions) {
        const current = events[p];
        if (!held(p) || current === 'all') continue;
        if (row.is_admin || row.all_events) events[p] = 'all';
        else for (const id of row.event_ids ?? []) current.add(id);
      }
    }
    return { organizer, events };
  }

  async listTeams(organizerId: string): Promise<TeamRow[]> {
    const rows: TeamDbRow[] = await this.ds.query(
      `SELECT t.id, t.organizer_id, t.name, t.all_events, t.is_admin, ${flagsSql} FROM team t WHERE t.organizer_id = $1 ORDER BY t.name, t.id`, [organizerId]);
    return Promise.all(rows.map((r) => this.complete(r)));
  }

  /** One of the organizer's teams, or null. */
  async team(organizerId: string, teamId: string): Promise<TeamRow | null> {
    const rows: TeamDbRow[] = await this.ds.query(
      `SELECT t.id, t.organizer_id, t.name, t.all_events, t.is_admin, ${flagsSql} FROM team t WHERE t.id = $1 AND t.organizer_id = $2`, [teamId, organizerId]);
    return rows[0] ? this.complete(rows[0]) : null;
  }

  private async complete(r: TeamDbRow): Promise<TeamRow> {
    const [members, events, invites] = await Promise.all([
      this.ds.query(`SELECT u.id, u.email, u.name FROM team_member m JOIN app_user u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY u.email`, [r.id]),
      this.ds.query('SELECT event_id FROM team_event WHERE team_id = $1', [r.id]) as Promise<{ event_id: string }[]>,
      this.ds.query(`SELECT id, email, expires_at AS "expiresAt" FROM team_invite WHERE team_id = $1 AND accepted_at IS NULL ORDER BY created_at`, [r.id]),
    ]);
    return {
      id: r.id, organizerId: r.organizer_id, name: r.name, allEvents: r.is_admin || r.all_events,
      permissions: teamPermissions.filter((p) => r.is_admin || r[permissionColumns[p]] === true),
      eventIds: events.map((e) => e.event_id), members, invites,
    };
  }

  async createTeam(organizerId: string, input: TeamInput): Promise<string> {
    return this.ds.transaction(async (tx) => {
      const rows: { id: string }[] = await tx.query(
        `INSERT INTO team (organizer_id, name, is_admin, all_events, ${teamPermissions.map((p) => permissionColumns[p]).join(', ')})
         VALUES ($1, $2, false, $3, ${teamPermissions.map((_, i) => `$${i + 4}`).join(', ')}) RETURNING id`,
        [organizerId, input.name, input.allEvents, ...teamPermissions.map((p) => input.permissions.includes(p))],
      );
      await this.writeEvents(tx, organizerId, rows[0]!.id, input);
      return rows[0]!.id;
    });
  }

  /** Rewrites a team's name, permissions and events (is_admin is cleared: the flags say it all from now on). */
  async updateTeam(organizerId: string, teamId: string, input: TeamInput): Promise<boolean> {
    return this.guarded(organizerId, async (tx) => {
      const rows: unknown[] = await tx.query(
        `WITH t AS (UPDATE team SET name = $3, is_admin = false, all_events = $4, ${teamPermissions.map((p, i) => `${permissionColumns[p]} = $${i + 5}`).join(', ')}
                    WHERE id = $1 AND organizer_id = $2 RETURNING id) SELECT id FROM t`,
        [teamId, organizerId, input.name, input.allEvents, ...teamPermissions.map((p) => input.permissions.includes(p))],
      );
      if (rows.length === 0) return false;
      await tx.query('DELETE FROM team_event WHERE team_id = $1', [teamId]);
      await this.writeEvents(tx, organizerId, teamId, input);
      return true;
    });
  }

  async deleteTeam(organizerId: string, teamId: string): Promise<boolean> {
    return this.guarded(organizerId, async (tx) => {
      const rows: unknown[] = await tx.query('WITH t AS (DELETE FROM team WHERE id = $1 AND organizer_id = $2 RETURNING id) SELECT id FROM t', [teamId, organizerId]);
      return rows.length > 0;
    });
  }

  /** Takes a user out of one of the organizer's teams (removed by an admin, or leaving); false when they are not in it. */
  async removeMember(organizerId: string, teamId: string, userId: string): Promise<boolean> {
    return this.guarded(organizerId, async (tx) => {
      const rows: unknown[] = await tx.query(
        `WITH m AS (DELETE FROM team_member WHERE user_id = $3 AND team_id = (SELECT id FROM team WHERE id = $1 AND organizer_id = $2) RETURNING user_id)
         SELECT user_id FROM m`, [teamId, organizerId, userId]);
      return rows.length > 0;
    });
  }

  /** Adds a login to one of the organizer's teams (an operator setting up an organizer); false for another organizer's team. */
  async addMember(organizerId: string, teamId: string, userId: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `WITH m AS (INSERT INTO team_member (team_id, user_id) SELECT id, $3 FROM team WHERE id = $1 AND organizer_id = $2
                  ON CONFLICT DO NOTHING RETURNING team_id) SELECT team_id FROM m`, [teamId, organizerId, userId]);
    return rows.length > 0 || (await this.team(organizerId, teamId)) !== null;
  }

  /** Stores an invitation (the token's hash only) to one of the organizer's teams; null for another organizer's team. */
  async createInvite(organizerId: string, teamId: string, input: { email: string; tokenHash: string; expiresAt: Date; invitedBy: string | null }): Promise<string | null> {
    const rows: { id: string }[] = await this.ds.query(
      `INSERT INTO team_invite (team_id, email, token_hash, expires_at, invited_by)
       SELECT id, $3, $4, $5, $6 FROM team WHERE id = $1 AND organizer_id = $2 RETURNING id`,
      [teamId, organizerId, input.email, input.tokenHash, input.expiresAt, input.invitedBy],
    );
    return rows[0]?.id ?? null;
  }

  /** Withdraws an open invitation of one of the organizer's teams. */
  async revokeInvite(organizerId: string, teamId: string, inviteId: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `WITH i AS (DELETE FROM team_invite WHERE id = $1 AND accepted_at IS NULL AND team_id = (SELECT id FROM team WHERE id = $2 AND organizer_id = $3) RETURNING id)
       SELECT id FROM i`, [inviteId, teamId, organizerId]);
    return rows.length > 0;
  }

  /** The open, unexpired invitation with this token hash (of an active organizer), or null. */
  async openInvite(tokenHash: string, now: Date): Promise<InviteRow | null> {
    const rows: InviteRow[] = await this.ds.query(
      `SELECT i.id, i.team_id AS "teamId", t.name AS "teamName", o.id AS "organizerId", o.name AS "organizerName", i.email, i.expires_at AS "expiresAt"
         FROM team_invite i JOIN team t ON t.id = i.team_id JOIN organizer o ON o.id = t.organizer_id
        WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > $2 AND o.is_active`, [tokenHash, now]);
    return rows[0] ?? null;
  }

  /**
   * Uses the invitation once: marks it accepted (compare-and-set on `accepted_at IS NULL`, so two
   * tabs cannot both use it) and adds the user to its team. Null when it is used, expired or unknown.
   */
  async acceptInvite(tokenHash: string, userId: string, now: Date, tx?: EntityManager): Promise<{ teamId: string; organizerId: string } | null> {
    const run = async (m: EntityManager) => {
      const rows: { team_id: string; organizer_id: string }[] = await m.query(
        `WITH i AS (UPDATE team_invite SET accepted_at = $3, accepted_by = $2
                     WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $3
                       AND team_id IN (SELECT t.id FROM team t JOIN organizer o ON o.id = t.organizer_id WHERE o.is_active)
                     RETURNING team_id)
         SELECT i.team_id, t.organizer_id FROM i JOIN team t ON t.id = i.team_id`, [tokenHash, userId, now]);
      const row = rows[0];
      if (!row) return null;
      await m.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [row.team_id, userId]);
      return { teamId: row.team_id, organizerId: row.organizer_id };
    };
    return tx ? run(tx) : this.ds.transaction(run);
  }

  /**
   * Creates a login for the invited address and uses the invitation for it, in one transaction:
   * an address that already has a login is refused (VALIDATION_FAILED on email: log in and accept
   * instead), and a used or expired invitation (INVITE_INVALID) leaves no login behind.
   */
  async registerAndAccept(tokenHash: string, user: { email: string; name: string; passwordHash: string }, now: Date): Promise<{ userId: string; teamId: string }> {
    return this.ds.transaction(async (tx) => {
      const taken: unknown[] = await tx.query('SELECT id FROM app_user WHERE lower(email) = lower($1)', [user.email]);
      if (taken.length > 0) throw new KassaError('VALIDATION_FAILED', { field: 'email', detail: `a login for ${user.email} already exists: log in to accept the invitation` });
      const rows: { id: string }[] = await tx.query(
        'INSERT INTO app_user (email, password_hash, name) VALUES ($1, $2, $3) RETURNING id', [user.email, user.passwordHash, user.name]);
      const accepted = await this.acceptInvite(tokenHash, rows[0]!.id, now, tx);
      if (!accepted) throw new KassaError('INVITE_INVALID');
      return { userId: rows[0]!.id, teamId: accepted.teamId };
    });
  }

  /** Active users who may change the organizer's teams. */
  async adminCount(organizerId: string, m: Pick<EntityManager, 'query'> = this.ds.manager): Promise<number> {
    const rows: { n: number }[] = await m.query(
      `SELECT count(DISTINCT u.id)::int AS n FROM team t JOIN team_member m ON m.team_id = t.id JOIN app_user u ON u.id = m.user_id
        WHERE t.organizer_id = $1 AND ${adminTeamSql} AND u.is_active`, [organizerId]);
    return rows[0]!.n;
  }

  /** Runs a change under the organizer's row lock and refuses it when it leaves no admin where there was one. */
  private async guarded<T>(organizerId: string, change: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(async (tx) => {
      await tx.query('SELECT id FROM organizer WHERE id = $1 FOR UPDATE', [organizerId]);
      const before = await this.adminCount(organizerId, tx);
      const result = await change(tx);
      if (before > 0 && (await this.adminCount(organizerId, tx)) === 0) throw new KassaError('TEAM_LAST_ADMIN');
      return result;
    });
  }

  private async writeEvents(tx: EntityManager, organizerId: string, teamId: string, input: TeamInput): Promise<void> {
    if (input.allEvents || input.eventIds.length === 0) return;
    await tx.query(
      'INSERT INTO team_event (team_id, event_id) SELECT $1, id FROM event WHERE organizer_id = $2 AND id = ANY($3::uuid[]) ON CONFLICT DO NOTHING',
      [teamId, organizerId, [...input.eventIds]]);
  }
}
