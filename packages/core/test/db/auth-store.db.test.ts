import { AuthStore, Team, User } from '@kassa/core/host';
import { createEvent, createOrganizer } from '@kassa/testing';
import { createCoreHarness, type CoreHarness } from './core-harness';

/** Users, memberships, API tokens and operators; tokens are scoped by organizer. */
describe('AuthStore', () => {
  let h: CoreHarness;
  let auth: AuthStore;
  beforeAll(async () => {
    h = await createCoreHarness();
    auth = new AuthStore(h.ds);
  });
  afterAll(async () => { await h.destroy(); });

  async function member(email: string, organizers: { id: string; admin: boolean }[], active = true) {
    const user = await h.ds.getRepository(User).save({ email, passwordHash: 'hash-1', name: 'Ada', isActive: active });
    for (const o of organizers) {
      const team = await h.ds.getRepository(Team).save({ organizerId: o.id, name: 'Team', isAdmin: o.admin });
      await h.ds.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [team.id, user.id]);
    }
    return user;
  }

  it('reads credentials case-insensitively, only of active users, and the memberships per organizer', async () => {
    const a = await createOrganizer(h.ds, { name: 'A org' });
    const b = await createOrganizer(h.ds, { name: 'B org' });
    const user = await member('Ada@Example.org', [{ id: a.id, admin: false }, { id: b.id, admin: true }]);
    expect(await auth.credentials(' ada@example.ORG ')).toEqual({ id: user.id, passwordHash: 'hash-1' });
    await auth.setPasswordHash(user.id, 'hash-2');
    expect((await auth.credentials('ada@example.org'))?.passwordHash).toBe('hash-2');
    const rows = await auth.memberships(user.id);
    expect(rows.map((r) => [r.organizerName, r.isAdmin, r.isOperator])).toEqual([['A org', false, false], ['B org', true, false]]);
    const inactive = await member('gone@example.org', [{ id: a.id, admin: true }], false);
    expect(await auth.credentials('gone@example.org')).toBeNull();
    expect(await auth.memberships(inactive.id)).toEqual([]);
  });

  it('grants operators by email and lists them', async () => {
    await member('op@example.org', []);
    expect(await auth.setOperator('OP@example.org', true)).toBe(true);
    expect(await auth.setOperator('nobody@example.org', true)).toBe(false);
    expect(await auth.operatorEmails()).toContain('op@example.org');
    await auth.setOperator('op@example.org', false);
    expect(await auth.operatorEmails()).not.toContain('op@example.org');
  });

  it("keeps API tokens per organizer: another organizer's id neither lists nor revokes them", async () => {
    const a = await createOrganizer(h.ds);
    const b = await createOrganizer(h.ds);
    const id = await auth.createApiToken(a.id, 'Sync', 'hash-a');
    expect(await auth.activeApiToken('hash-a')).toMatchObject({ id, organizerId: a.id, stale: true });
    await auth.touchApiToken(id);
    expect((await auth.activeApiToken('hash-a'))?.stale).toBe(false);
    expect(await auth.listApiTokens(b.id)).toEqual([]);
    expect(await auth.revokeApiToken(b.id, id)).toBe(false);
    expect(await auth.activeApiToken('hash-a')).not.toBeNull();
    expect((await auth.listApiTokens(a.id)).map((t) => [t.name, t.active])).toEqual([['Sync', true]]);
    expect(await auth.revokeApiToken(a.id, id)).toBe(true);
    expect(await auth.activeApiToken('hash-a')).toBeNull();
  });

  it('stores a token\'s permissions and chosen events (only its organizer\'s), and answers them as rights', async () => {
    const org = await createOrganizer(h.ds);
    const other = await createOrganizer(h.ds);
    const mine = await createEvent(h.ds, { organizerId: org.id });
    const theirs = await createEvent(h.ds, { organizerId: other.id });
    await auth.createApiToken(org.id, 'Box office', 'hash-scoped', { permissions: ['event.orders.change', 'event.orders.view'], allEvents: false, eventIds: [mine.id, theirs.id] });
    const active = await auth.activeApiToken('hash-scoped');
    expect(active!.rights.organizer.size).toBe(0);
    expect(active!.rights.events['event.orders.view']).toEqual(new Set([mine.id]));
    expect(active!.rights.events['event.orders.change']).toEqual(new Set([mine.id]));
    expect(active!.rights.events['event.settings']).toEqual(new Set());
    const [listed] = (await auth.listApiTokens(org.id)).filter((t) => t.name === 'Box office');
    expect(listed).toMatchObject({ permissions: ['event.orders.view', 'event.orders.change'], allEvents: false, events: [{ id: mine.id, name: mine.name }] });
  });
});
