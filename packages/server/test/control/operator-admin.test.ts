import { AuthStore, BasePaymentProvider, createUser as createLogin, globalSettings, type JsonSchema, type PaymentOutcome } from '@kassa/core/host';
import { hashPassword } from '../../src/auth/password';
import { cookieOf, createOrganizerFixture, csrfOf, createTestApp, getPage, login, postForm, type Browser, type OrganizerFixture, type TestApp } from '../infra/test-app';

/** A provider with an instance-only setting (where its requests go). */
class RoutedProvider extends BasePaymentProvider {
  readonly identifier = 'routed';
  readonly verboseName = 'Routed';
  override readonly settingsSchema: JsonSchema = {
    type: 'object', properties: { apiBase: { type: 'string', format: 'uri', 'x-instance-only': true }, label: { type: 'string', maxLength: 50 } }, additionalProperties: false,
  };
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'pending' });
  }
}

let t: TestApp;
let a: OrganizerFixture;
let operator: Browser;
let adminA: Browser;

beforeAll(async () => {
  t = await createTestApp({}, {}, [new RoutedProvider()]);
  a = await createOrganizerFixture(t);
  // An operator in no team: the admin area is all they have.
  await createLogin(t.db.dataSource, { email: 'op@example.test', passwordHash: await hashPassword('operator password', { logN: 10 }), isOperator: true });
  operator = await loginOperator();
  adminA = await login(t, a.email, a.password);
});
afterAll(async () => t.close());

/** The login helper opens /control, which sends an operator outside any team to /control/admin: take the token there. */
async function loginOperator(): Promise<Browser> {
  const page = await t.app.inject({ method: 'GET', url: '/control/login' });
  let cookie = cookieOf(page);
  const res = await t.app.inject({
    method: 'POST', url: '/control/login', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email: 'op@example.test', password: 'operator password', _csrf: csrfOf(page.body) }).toString(),
  });
  expect(res.statusCode).toBe(303);
  cookie = cookieOf(res, cookie);
  const admin = await t.app.inject({ method: 'GET', url: '/control/admin', headers: { cookie } });
  return { cookie, csrf: csrfOf(admin.body) };
}

const organizerIdFrom = (location: unknown) => /\/control\/admin\/organizers\/([0-9a-f-]{36})$/.exec(String(location))![1]!;

describe('the operator admin area', () => {
  it('exists only for operators: an organizer admin gets 404 on every page and form', async () => {
    for (const url of ['/control/admin', `/control/admin/organizers/${a.organizer.id}`, '/control/admin/settings', '/control/admin/settings/manual']) {
      expect([url, (await getPage(t, adminA, url)).statusCode]).toEqual([url, 404]);
    }
    for (const url of ['/control/admin/organizers', `/control/admin/organizers/${a.organizer.id}/rename`, `/control/admin/organizers/${a.organizer.id}/active`, '/control/admin/settings/manual']) {
      expect([url, (await postForm(t, adminA, url, { name: 'X', slug: 'x', active: 'false' })).statusCode]).toEqual([url, 404]);
    }
    expect((await t.db.dataSource.query('SELECT is_active FROM organizer WHERE id = $1', [a.organizer.id]))[0].is_active).toBe(true);
  });

  it('keeps an operator outside any team out of every organizer page', async () => {
    expect((await getPage(t, operator, '/control')).headers.location).toBe('/control/admin');
    for (const url of ['/control/orders', '/control/events', '/control/teams', '/control/settings/payment']) {
      expect([url, (await getPage(t, operator, url)).statusCode]).toEqual([url, 404]);
    }
  });

  it('creates an organizer whose first admin is invited, renames it, deactivates and reactivates it', async () => {
    const created = await postForm(t, operator, '/control/admin/organizers', { name: 'New Org', slug: 'new-org', adminEmail: 'first-admin@example.test' });
    expect(created.statusCode).toBe(303);
    const id = organizerIdFrom(created.headers.location);
    const page = await getPage(t, operator, `/control/admin/organizers/${id}`);
    expect(page.body).toContain('/control/invite/');
    expect((await t.db.dataSource.query("SELECT 1 FROM team_invite WHERE email = 'first-admin@example.test'"))).toHaveLength(1);
    expect((await postForm(t, operator, '/control/admin/organizers', { name: 'Dup', slug: 'new-org' })).statusCode).toBe(400);
    expect((await postForm(t, operator, '/control/admin/organizers', { name: 'Bad', slug: 'Not A Slug!' })).statusCode).toBe(400);
    expect((await postForm(t, operator, `/control/admin/organizers/${id}/rename`, { name: 'Renamed Org' })).statusCode).toBe(303);
    expect((await t.db.dataSource.query('SELECT name FROM organizer WHERE id = $1', [id]))[0].name).toBe('Renamed Org');
    expect((await postForm(t, operator, `/control/admin/organizers/${id}/rename`, { name: '' })).statusCode).toBe(400);
    // Unknown organizers, and a team of another organizer than the path's, are 404.
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await getPage(t, operator, `/control/admin/organizers/${unknown}`)).statusCode).toBe(404);
    expect((await postForm(t, operator, `/control/admin/organizers/${unknown}/active`, { active: 'false' })).statusCode).toBe(404);
    const teamOfA = (await t.db.dataSource.query('SELECT id FROM team WHERE organizer_id = $1', [a.organizer.id]))[0].id;
    expect((await postForm(t, operator, `/control/admin/organizers/${id}/teams/${teamOfA}/invites`, { email: 'cross@example.test' })).statusCode).toBe(404);
    expect(await t.db.dataSource.query("SELECT 1 FROM team_invite WHERE email = 'cross@example.test'")).toHaveLength(0);
  });

  it('a deactivated organizer’s shop, control panel and API stop answering; its data stays; reactivation restores them', async () => {
    const f = await createOrganizerFixture(t);
    const browser = await login(t, f.email, f.password);
    const shopUrl = `/${f.organizer.slug}/${f.event.slug}/`;
    expect((await t.app.inject({ method: 'GET', url: shopUrl })).statusCode).toBe(200);
    expect((await postForm(t, operator, `/control/admin/organizers/${f.organizer.id}/active`, { active: 'false' })).statusCode).toBe(303);
    expect((await getPage(t, browser, '/control/orders')).statusCode).toBe(303);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { authorization: `Bearer ${f.token}` } })).statusCode).toBe(401);
    t.clock.advance({ seconds: 10 });
    expect(await new AuthStore(t.db.dataSource).memberships((await t.db.dataSource.query('SELECT id FROM app_user WHERE email = $1', [f.email]))[0].id)).toEqual([]);
    expect((await t.db.dataSource.query('SELECT count(*)::int AS n FROM event WHERE organizer_id = $1', [f.organizer.id]))[0].n).toBe(1);
    expect((await postForm(t, operator, `/control/admin/organizers/${f.organizer.id}/active`, { active: 'true' })).statusCode).toBe(303);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { authorization: `Bearer ${f.token}` } })).statusCode).toBe(200);
  });

  it('saves instance-level provider defaults, refuses forged CSRF and bad values with 400', async () => {
    expect((await getPage(t, operator, '/control/admin/settings')).statusCode).toBe(200);
    expect((await postForm(t, operator, '/control/admin/settings/manual', { publicName: 'Instance transfer' }, { csrf: 'forged' })).statusCode).toBe(403);
    expect((await postForm(t, operator, '/control/admin/settings/manual', { publicName: 'Instance transfer' })).statusCode).toBe(303);
    const form = await getPage(t, operator, '/control/admin/settings/manual');
    expect(form.body).toContain('Instance transfer');
    expect((await postForm(t, operator, '/control/admin/organizers', { name: 'Forged', slug: 'forged' }, { csrf: 'forged' })).statusCode).toBe(403);
    expect(await t.db.dataSource.query("SELECT 1 FROM organizer WHERE slug = 'forged'")).toHaveLength(0);
  });

  it('sets instance-only settings at the global level, which organizers can neither see nor set', async () => {
    const form = await getPage(t, operator, '/control/admin/settings/routed');
    expect(form.body).toContain('name="apiBase"');
    expect(form.body).toContain('instance-only');
    expect((await postForm(t, operator, '/control/admin/settings/routed', { apiBase: 'not a url' })).statusCode).toBe(400);
    expect((await postForm(t, operator, '/control/admin/settings/routed', { apiBase: 'https://egress.internal' })).statusCode).toBe(303);
    expect((await t.deps.settings.getForDisplay(globalSettings, 'payment.routed')).values.apiBase).toBe('https://egress.internal');
    expect((await getPage(t, adminA, '/control/settings/payment/routed')).body).not.toContain('name="apiBase"');
    expect((await postForm(t, adminA, '/control/settings/payment/routed', { apiBase: 'https://evil.example' })).statusCode).toBe(400);
  });
});

describe("the operator and an organizer's team members", () => {
  it('removes a member from any organizer\'s team, never the last admin; 404 for others, CSRF needed', async () => {
    const f = await createOrganizerFixture(t);
    const other = await createOrganizerFixture(t);
    const [admins] = await t.db.dataSource.query('SELECT id FROM team WHERE organizer_id = $1', [f.organizer.id]);
    const [firstAdmin] = await t.db.dataSource.query('SELECT id FROM app_user WHERE email = $1', [f.email]);
    const second = await createLogin(t.db.dataSource, { email: `second-${f.organizer.slug}@example.test`, passwordHash: await hashPassword('x'.repeat(12), { logN: 10 }) });
    await t.db.dataSource.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [admins.id, second.id]);
    const removeUrl = (userId: string, org = f.organizer.id, team = admins.id) => `/control/admin/organizers/${org}/teams/${team}/members/${userId}/remove`;
    const members = async () => (await t.db.dataSource.query('SELECT user_id FROM team_member WHERE team_id = $1 ORDER BY user_id', [admins.id])).map((r: { user_id: string }) => r.user_id);

    const page = await getPage(t, operator, `/control/admin/organizers/${f.organizer.id}`);
    expect(page.body).toContain(removeUrl(second.id));
    // Not for organizer admins (the admin area does not exist for them), not without CSRF, not across organizers.
    expect((await postForm(t, adminA, removeUrl(second.id))).statusCode).toBe(404);
    expect((await postForm(t, operator, removeUrl(second.id), {}, { csrf: null })).statusCode).toBe(403);
    expect((await postForm(t, operator, removeUrl(second.id, other.organizer.id))).statusCode).toBe(404);
    expect((await postForm(t, operator, removeUrl(other.organizer.id))).statusCode).toBe(404);
    expect((await members()).sort()).toEqual([firstAdmin.id, second.id].sort());

    const removed = await postForm(t, operator, removeUrl(second.id));
    expect(removed.statusCode).toBe(303);
    expect(await members()).toEqual([firstAdmin.id]);
    // The last one who can change teams stays, also when the operator asks.
    const last = await postForm(t, operator, removeUrl(firstAdmin.id));
    expect(last.statusCode).toBe(409);
    expect(last.body).toContain('This would leave the organizer without anyone who can change teams');
    expect(await members()).toEqual([firstAdmin.id]);
  });
});
