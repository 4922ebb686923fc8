import { randomBytes } from 'node:crypto';
import { AuthStore, KassaError, TeamStore, noPermissions, type DataSource, type UserPermissions } from '@kassa/core/host';
import { hashPassword, needsRehash, verifyPassword, type HashOptions } from './password';

/** Who is logged in, and for which organizer. Loaded per request, so deactivation takes effect at once. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  organizerId: string;
  organizerName: string;
  organizerSlug: string;
  /** May change the organizer's settings (and so manage jobs and API tokens): the 'organizer.settings' permission. */
  isAdmin: boolean;
  /** The union of the user's teams in this organizer (auth/permissions.ts checks routes against it). */
  permissions: UserPermissions;
  /** Instance operator (`app_user.is_operator`): the admin area, the instance-wide jobs. Not tied to an organizer. */
  isOperator: boolean;
  /** Every organizer the user is in (to switch between them). */
  organizers: { id: string; name: string }[];
}

/**
 * Password login and the per-request lookup of the session's user. A user without any team has no
 * organizer to work in and cannot log in.
 */
export class LoginService {
  private dummyHash: Promise<string> | undefined;
  private readonly store: AuthStore;
  private readonly teams: TeamStore;

  constructor(dataSource: DataSource, private readonly hashOptions: HashOptions = {}) {
    this.store = new AuthStore(dataSource);
    this.teams = new TeamStore(dataSource);
  }

  /** Refuses with AUTH_INVALID_CREDENTIALS without saying whether the email or the password was wrong. */
  async authenticate(email: string, password: string): Promise<SessionUser> {
    const row = await this.store.credentials(email);
    // Verify against a throwaway hash when the email is unknown, so timing does not reveal accounts.
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.hashOptions);
    const ok = await verifyPassword(password, row?.passwordHash ?? (await this.dummyHash));
    if (!row || !ok) throw new KassaError('AUTH_INVALID_CREDENTIALS');
    if (needsRehash(row.passwordHash) && this.hashOptions.logN === undefined) {
      await this.store.setPasswordHash(row.id, await hashPassword(password));
    }
    const user = await this.load(row.id);
    if (!user) throw new KassaError('AUTH_INVALID_CREDENTIALS');
    return user;
  }

  /**
   * The user in their organizer: the given one (the session's) if they are a member of it, else the
   * one they last worked in, else their first by name and id, so a login always lands in the same
   * place. An
   * operator in no team gets a session without an organizer (organizerId ''): every route needs
   * a permission, so such a session reaches only the operator's admin area.
   */
  /** Records the organizer the user now works in (login, switching, an accepted invitation): the next login opens it. */
  async remember(user: { id: string; organizerId: string }): Promise<void> {
    if (user.organizerId) await this.store.setLastOrganizer(user.id, user.organizerId);
  }

  async load(userId: string, organizerId?: string): Promise<SessionUser | null> {
    const rows = await this.store.memberships(userId);
    const row = rows.find((r) => r.organizerId === organizerId) ?? rows.find((r) => r.organizerId === rows[0]?.lastOrganizerId) ?? rows[0];
    if (!row) {
      const op = await this.store.activeOperator(userId);
      if (!op) return null;
      return { ...op, organizerId: '', organizerName: '', organizerSlug: '', isAdmin: false, permissions: noPermissions, isOperator: true, organizers: [] };
    }
    return {
      id: row.userId, email: row.email, name: row.name,
      organizerId: row.organizerId, organizerName: row.organizerName, organizerSlug: row.organizerSlug, isAdmin: row.isAdmin,
      permissions: await this.teams.permissionsOf(row.userId, row.organizerId),
      isOperator: row.isOperator,
      organizers: rows.map((r) => ({ id: r.organizerId, name: r.organizerName })),
    };
  }
}
