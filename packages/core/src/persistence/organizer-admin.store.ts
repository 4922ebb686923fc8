import type { DataSource } from 'typeorm';
import { KassaError } from '../errors';
import { Organizer } from '../organizer/organizer.entity';
import { Team } from '../organizer/team.entity';
import { User } from '../organizer/user.entity';

/** Organizer slugs are URL path segments (/<organizer>/<event>/): lower-case letters, digits, dashes. */
export const organizerSlugPattern = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export interface NewOrganizer {
  name: string;
  slug: string;
  /** E-mail of an existing login to put into the admin team; none leaves the team empty. */
  adminEmail?: string;
  /** Name of the admin team (default "Administrators"). */
  teamName?: string;
}

export interface CreatedOrganizer {
  organizer: Organizer;
  team: Team;
  admin: User | null;
}

/**
 * Creates an organizer with its admin team (the operator's `pnpm kassa create-organizer`), in one
 * transaction. A taken slug or an unknown admin login is refused before anything is written.
 */
export async function createOrganizerWithAdminTeam(ds: DataSource, input: NewOrganizer): Promise<CreatedOrganizer> {
  const name = input.name.trim();
  const slug = input.slug.trim();
  if (!name) throw new KassaError('VALIDATION_FAILED', { field: 'name', detail: 'the organizer needs a name' });
  if (!organizerSlugPattern.test(slug)) {
    throw new KassaError('VALIDATION_FAILED', { field: 'slug', detail: `slug "${slug}" must be 1–64 lower-case letters, digits or dashes (not starting or ending with a dash)` });
  }
  return ds.transaction(async (tx) => {
    if (await tx.getRepository(Organizer).existsBy({ slug })) {
      throw new KassaError('VALIDATION_FAILED', { field: 'slug', detail: `slug ${slug} is already used by another organizer` });
    }
    let admin: User | null = null;
    if (input.adminEmail !== undefined) {
      admin = await findUserByEmail(ds, input.adminEmail, tx);
      if (!admin) throw new KassaError('NOT_FOUND', { entity: `User ${input.adminEmail}` });
    }
    const organizer = await tx.getRepository(Organizer).save({ name, slug });
    const team = await tx.getRepository(Team).save({ organizerId: organizer.id, name: input.teamName ?? 'Administrators', isAdmin: true, members: admin ? [admin] : [] });
    return { organizer, team, admin };
  });
}

export interface NewUser {
  email: string;
  passwordHash: string;
  name?: string;
  isOperator?: boolean;
}

/** A login by e-mail, case-insensitively (as the login and `setOperator` match it). */
export async function findUserByEmail(ds: DataSource, email: string, tx?: { getRepository: DataSource['getRepository'] }): Promise<User | null> {
  return (tx ?? ds).getRepository(User).createQueryBuilder('u').where('lower(u.email) = lower(:email)', { email: email.trim() }).getOne();
}

/** Creates a login; an e-mail that already has one is refused (case-insensitively). */
export async function createUser(ds: DataSource, input: NewUser): Promise<User> {
  const email = input.email.trim();
  return ds.transaction(async (tx) => {
    if (await findUserByEmail(ds, email, tx)) throw new KassaError('VALIDATION_FAILED', { field: 'email', detail: `a login for ${email} already exists` });
    return tx.getRepository(User).save({ email, passwordHash: input.passwordHash, name: input.name ?? '', isActive: true, isOperator: input.isOperator ?? false });
  });
}

/** Whether the instance has any organizer yet (the demo seed writes only into an empty instance). */
export async function hasAnyOrganizer(ds: DataSource): Promise<boolean> {
  return (await ds.getRepository(Organizer).count({ take: 1 })) > 0;
}

/**
 * Removes an organizer (its teams, events, products and quotas cascade) and, when given, a login:
 * undoing a half-written setup (the demo seed), never for an organizer that has orders.
 */
export async function removeOrganizerAndUser(ds: DataSource, organizerId: string | null, userId?: string): Promise<void> {
  await ds.transaction(async (tx) => {
    if (organizerId) await tx.getRepository(Organizer).delete({ id: organizerId });
    if (userId) await tx.getRepository(User).delete({ id: userId });
  });
}

/** An organizer as the operator's admin area lists it. */
export interface OrganizerSummary {
  id: string;
  name: string;
  slug: string;
  isActive: boolean;
  createdAt: Date;
  teams: number;
  members: number;
}

/** Every organizer of the instance with its team and member counts, by name (the operator's admin area). */
export function listOrganizers(ds: DataSource): Promise<OrganizerSummary[]> {
  return ds.query(
    `SELECT o.id, o.name, o.slug, o.is_active AS "isActive", o.created_at AS "createdAt",
            (SELECT count(*)::int FROM team t WHERE t.organizer_id = o.id) AS teams,
            (SELECT count(DISTINCT m.user_id)::int FROM team t JOIN team_member m ON m.team_id = t.id WHERE t.organizer_id = o.id) AS members
       FROM organizer o ORDER BY o.name, o.id`,
  );
}

/** One organizer by id (active or not), or null. */
export async function findOrganizer(ds: DataSource, organizerId: string): Promise<OrganizerSummary | null> {
  const all: OrganizerSummary[] = await ds.query(
    `SELECT o.id, o.name, o.slug, o.is_active AS "isActive", o.created_at AS "createdAt", 0 AS teams, 0 AS members FROM organizer o WHERE o.id = $1`, [organizerId]);
  return all[0] ?? null;
}

/** Renames an organizer (its slug, part of every shop URL, stays); false when there is none with that id. */
export async function renameOrganizer(ds: DataSource, organizerId: string, name: string): Promise<boolean> {
  const trimmed = name.trim();
  if (!trimmed) throw new KassaError('VALIDATION_FAILED', { field: 'name', detail: 'the organizer needs a name' });
  const rows: unknown[] = await ds.query('WITH o AS (UPDATE organizer SET name = $2 WHERE id = $1 RETURNING id) SELECT id FROM o', [organizerId, trimmed]);
  return rows.length > 0;
}

/**
 * Deactivates or reactivates an organizer. A deactivated organizer's shop, control panel and API
 * answer as if it did not exist; nothing of its data is removed.
 */
export async function setOrganizerActive(ds: DataSource, organizerId: string, active: boolean): Promise<boolean> {
  const rows: unknown[] = await ds.query('WITH o AS (UPDATE organizer SET is_active = $2 WHERE id = $1 RETURNING id) SELECT id FROM o', [organizerId, active]);
  return rows.length > 0;
}
