import { TeamStore, eventPermissions, hasPermission, noPermissions, organizerPermissions, type UserPermissions } from '@kassa/core/host';
import { createEvent, createOrganizer } from '@kassa/testing';
import { TeamsAndInvites1767600000000 } from '../../src/db/migrations/1767600000000-teams-and-invites';
import { createCoreHarness, type CoreHarness } from './core-harness';

/** Teams' permissions (union over teams, chosen events), the last-admin guard and single-use invitations. */
describe('TeamStore', () => {
  let h: CoreHarness;
  let teams: TeamStore;
  beforeAll(async () => {
    h = await createCoreHarness();
    teams = new TeamStore(h.ds);
  });
  afterAll(async () => { await h.destroy(); });

  const user = async (email: string): Promise<string> =>
    (await h.ds.query('INSERT INTO app_user (email, password_hash) VALUES ($1, $2) RETURNING id', [email, 'hash']))[0].id;
  const join = (teamId: string, userId: string) => h.ds.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [teamId, userId]);
  const flat = (p: UserPermissions) => ({
    organizer: [...p.organizer].sort(),
    events: Object.fromEntries(Object.entries(p.events).map(([k, v]) => [k, v === 'all' ? 'all' : [...v].sort()])),
  });

  it('migrates existing teams so that everyone keeps exactly their rights', async () => {
    const o = await createOrganizer(h.ds);
    const migration = new TeamsAndInvites1767600000000();
    const runner = h.ds.createQueryRunner();
    try {
      await migration.down(runner);
      const admin = (await runner.query(`INSERT INTO team (organizer_id, name, is_admin) VALUES ($1, 'Admins', true) RETURNING id`, [o.id]))[0].id;
      const staff = (await runner.query(`INSERT INTO team (organizer_id, name, is_admin) VALUES ($1, 'Staff', false) RETURNING id`, [o.id]))[0].id;
      const a = (await runner.query(`INSERT INTO app_user (email, password_hash) VALUES ('mig-admin@x.test', 'h') RETURNING id`))[0].id;
      const s = (await runner.query(`INSERT INTO app_user (email, password_hash) VALUES ('mig-staff@x.test', 'h') RETURNING id`))[0].id;
      await runner.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2), ($3, $4)', [admin, a, staff, s]);
      await migration.up(runner);
      // The flag is cleared so only the columns speak: the admin's rights must come from them alone.
      await runner.query('UPDATE team SET is_admin = false WHERE id = $1', [admin]);
      expect(flat(await teams.permissionsOf(a, o.id))).toEqual({
        organizer: [...organizerPermissions].sort(), events: Object.fromEntries(eventPermissions.map((p) => [p, 'all'])),
      });
      // Members before permissions: events and orders, no settings, no teams.
      expect(flat(await teams.permissionsOf(s, o.id))).toEqual({
        organizer: ['organizer.events.create'], events: Object.fromEntries(eventPermissions.map((p) => [p, 'all'])),
      });
    } finally {
      await runner.release();
    }
  });

  it('unions the permissions of a user’s teams, event-level ones per chosen event', async () => {
    const o = await createOrganizer(h.ds);
    const e1 = await createEvent(h.ds, { organizerId: o.id });
    const e2 = await createEvent(h.ds, { organizerId: o.id });
    const foreign = await createEvent(h.ds, { organizerId: (await createOrganizer(h.ds)).id });
    const u = await user('union@x.test');
    const t1 = await teams.createTeam(o.id, { name: 'E1 change', allEvents: false, permissions: ['event.orders.change', 'event.orders.view'], eventIds: [e1.id, foreign.id] });
    const t2 = await teams.createTeam(o.id, { name: 'View all', allEvents: true, permissions: ['event.orders.view'], eventIds: [] });
    const t3 = await teams.createTeam(o.id, { name: 'Settings', allEvents: false, permissions: ['organizer.settings'], eventIds: [e2.id] });
    for (const t of [t1, t2, t3]) await join(t, u);
    const rights = await teams.permissionsOf(u, o.id);
    expect(hasPermission(rights, 'event.orders.view', e2.id)).toBe(true);
    expect(hasPermission(rights, 'event.orders.change', e1.id)).toBe(true);
    expect(hasPermission(rights, 'event.orders.change', e2.id)).toBe(false);
    // Another organizer's event is never stored for a team.
    expect(hasPermission(rights, 'event.orders.change', foreign.id)).toBe(false);
    expect(hasPermission(rights, 'organizer.settings')).toBe(true);
    expect(hasPermission(rights, 'organizer.teams')).toBe(false);
    expect(hasPermission(rights, 'event.settings')).toBe(false);
    expect(flat(await teams.permissionsOf(u, (await createOrganizer(h.ds)).id))).toEqual(flat(noPermissions));
    // A deactivated organizer grants nothing.
    await h.ds.query('UPDATE organizer SET is_active = false WHERE id = $1', [o.id]);
    expect(flat(await teams.permissionsOf(u, o.id))).toEqual(flat(noPermissions));
  });

  it('never lets the last admin go, also under concurrent removals', async () => {
    const o = await createOrganizer(h.ds);
    const a1 = await user('a1@x.test');
    const a2 = await user('a2@x.test');
    const team = await teams.createTeam(o.id, { name: 'Admins', allEvents: true, permissions: ['organizer.teams'], eventIds: [] });
    await join(team, a1);
    await join(team, a2);
    const results = await Promise.allSettled([teams.removeMember(o.id, team, a1), teams.removeMember(o.id, team, a2)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'TEAM_LAST_ADMIN' } });
    expect(await teams.adminCount(o.id)).toBe(1);
    await expect(teams.deleteTeam(o.id, team)).rejects.toMatchObject({ code: 'TEAM_LAST_ADMIN' });
  });

  it('uses an invitation once, and not after it expired', async () => {
    const o = await createOrganizer(h.ds);
    const team = await teams.createTeam(o.id, { name: 'T', allEvents: true, permissions: ['event.orders.view'], eventIds: [] });
    const now = new Date('2026-01-01T00:00:00Z');
    await teams.createInvite(o.id, team, { email: 'inv@x.test', tokenHash: 'h1', expiresAt: new Date('2026-01-08T00:00:00Z'), invitedBy: null });
    await teams.createInvite(o.id, team, { email: 'old@x.test', tokenHash: 'h2', expiresAt: new Date('2025-12-31T00:00:00Z'), invitedBy: null });
    expect(await teams.createInvite((await createOrganizer(h.ds)).id, team, { email: 'x@x.test', tokenHash: 'h3', expiresAt: now, invitedBy: null })).toBeNull();
    const u1 = await user('u1@x.test');
    const u2 = await user('u2@x.test');
    const both = await Promise.all([teams.acceptInvite('h1', u1, now), teams.acceptInvite('h1', u2, now)]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await teams.acceptInvite('h2', u1, now)).toBeNull();
    expect(await teams.openInvite('h1', now)).toBeNull();
    await expect(teams.registerAndAccept('h2', { email: 'old@x.test', name: '', passwordHash: 'p' }, now)).rejects.toMatchObject({ code: 'INVITE_INVALID' });
    expect(await h.ds.query("SELECT 1 FROM app_user WHERE email = 'old@x.test'")).toHaveLength(0);
  });
});
