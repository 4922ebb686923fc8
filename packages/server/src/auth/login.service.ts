import { randomBytes } from 'node:crypto';
import { KassaError, type DataSource } from '@kassa/core/host';
import { hashPassword, needsRehash, verifyPassword, type HashOptions } from './password';

/** Who is logged in, and for which organizer. Loaded per request, so deactivation takes effect at once. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  organizerId: string;
  organizerName: string;
  organizerSlug: string;
  /** Member of an admin team of this organizer: may change settings and manage jobs. */
  isAdmin: boolean;
  /** Instance operator (`app_user.is_operator`): also sees the instance-wide jobs. Not tied to an organizer. */
  isOperator: boolean;
}

interface MembershipRow {
  user_id: string;
  email: string;
  name: string;
  organizer_id: string;
  organizer_name: string;
  organizer_slug: string;
  is_admin: boolean;
  is_operator: boolean;
}

/**
 * Password login and the per-request lookup of the session's user. A user without any team has no
 * organizer to work in and cannot log in.
 */
export class LoginService {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly dataSource: DataSource, private readonly hashOptions: HashOptions = {}) {}

  /** Refuses with AUTH_INVALID_CREDENTIALS without saying whether the email or the password was wrong. */
  async authenticate(email: string, password: string): Promise<SessionUser> {
    const rows: { id: string; password_hash: string }[] = await this.dataSource.query(
      'SELECT id, password_hash FROM app_user WHERE lower(email) = lower($1) AND is_active', [email.trim()],
    );
    const row = rows[0];
    // Verify against a throwaway hash when the email is unknown, so timing does not reveal accounts.
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.hashOptions);
    const ok = await verifyPassword(password, row?.password_hash ?? (await this.dummyHash));
    if (!row || !ok) throw new KassaError('AUTH_INVALID_CREDENTIALS');
    if (needsRehash(row.password_hash) && this.hashOptions.logN === undefined) {
      await this.dataSource.query('UPDATE app_user SET password_hash = $2 WHERE id = $1', [row.id, await hashPassword(password)]);
    }
    const user = await this.load(row.id);
    if (!user) throw new KassaError('AUTH_INVALID_CREDENTIALS');
    return user;
  }

  /** The user in their organizer (the given one if they are a member of it, else their first). */
  async load(userId: string, organizerId?: string): Promise<SessionUser | null> {
    const rows: MembershipRow[] = await this.dataSource.query(
      `SELECT u.id AS user_id, u.email, u.name, o.id AS organizer_id, o.name AS organizer_name, o.slug AS organizer_slug,
              bool_or(t.is_admin) AS is_admin, u.is_operator
         FROM app_user u
         JOIN team_member m ON m.user_id = u.id
         JOIN team t ON t.id = m.team_id
         JOIN organizer o ON o.id = t.organizer_id
        WHERE u.id = $1 AND u.is_active
        GROUP BY u.id, o.id
        ORDER BY o.name, o.id`,
      [userId],
    );
    const row = rows.find((r) => r.organizer_id === organizerId) ?? rows[0];
    if (!row) return null;
    return {
      id: row.user_id, email: row.email, name: row.name,
      organizerId: row.organizer_id, organizerName: row.organizer_name, organizerSlug: row.organizer_slug, isAdmin: row.is_admin,
      isOperator: row.is_operator,
    };
  }
}
