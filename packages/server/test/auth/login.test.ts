import { createOrganizer } from '@kassa/testing';
import { cookieOf, createTestApp, createUser, csrfOf, login, postForm, type TestApp } from '../infra/test-app';

let t: TestApp;
let email: string;
let password: string;

beforeAll(async () => {
  // The per-account limit has its own tests (rate-limits.test.ts); here one account logs in often.
  t = await createTestApp({ rateLimits: { login: { max: 4, timeWindow: '1 minute' }, loginAccount: { max: 100, timeWindow: '15 minutes' } } });
  const organizer = await createOrganizer(t.db.dataSource, { name: 'Fest GmbH' });
  ({ email, password } = await createUser(t, organizer));
});
afterAll(async () => t.close());

async function loginPage() {
  const page = await t.app.inject({ method: 'GET', url: '/control/login' });
  return { cookie: cookieOf(page), csrf: csrfOf(page.body) };
}

function postLogin(cookie: string, fields: Record<string, string>, ip = '10.0.0.1') {
  return t.app.inject({
    method: 'POST', url: '/control/login', remoteAddress: ip,
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    payload: new URLSearchParams(fields).toString(),
  });
}

describe('control panel login', () => {
  it('sends an anonymous browser to the login page, remembering where it wanted to go', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/control/orders' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/control/login?next=%2Fcontrol%2Forders');
  });

  it('logs in with the right password, with an HttpOnly SameSite=Lax session cookie stored in http_session', async () => {
    const { cookie, csrf } = await loginPage();
    const res = await postLogin(cookie, { email, password, _csrf: csrf, next: '/control/orders' }, '10.0.0.2');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/control/orders');
    const session = res.cookies.find((c) => c.name === 'kassa_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    expect(session.secure).toBeFalsy();
    const rows = await t.db.dataSource.query("SELECT data FROM http_session WHERE data->>'userId' IS NOT NULL");
    expect(rows.length).toBeGreaterThan(0);
    const dash = await t.app.inject({ method: 'GET', url: '/control', headers: { cookie: cookieOf(res, cookie) } });
    expect(dash.statusCode).toBe(200);
    expect(dash.body).toContain('Fest GmbH');
  });

  it('regenerates the session id on login (no session fixation)', async () => {
    const { cookie, csrf } = await loginPage();
    const before = cookie.split('=')[1];
    const res = await postLogin(cookie, { email, password, _csrf: csrf }, '10.0.0.3');
    expect(res.cookies.find((c) => c.name === 'kassa_session')!.value).not.toBe(before);
  });

  it('refuses a wrong password with 401 and the same message as an unknown email', async () => {
    const a = await loginPage();
    const wrong = await postLogin(a.cookie, { email, password: 'nope', _csrf: a.csrf }, '10.0.0.4');
    const b = await loginPage();
    const unknown = await postLogin(b.cookie, { email: 'ghost@example.test', password: 'nope', _csrf: b.csrf }, '10.0.0.4');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.body).toContain('Email or password is incorrect');
    expect(unknown.body).toContain('Email or password is incorrect');
    const dash = await t.app.inject({ method: 'GET', url: '/control', headers: { cookie: cookieOf(wrong, a.cookie) } });
    expect(dash.statusCode).toBe(303);
  });

  it('refuses a login form without a valid CSRF token', async () => {
    const { cookie } = await loginPage();
    const missing = await postLogin(cookie, { email, password }, '10.0.0.5');
    const forged = await postLogin(cookie, { email, password, _csrf: 'forged' }, '10.0.0.5');
    expect(missing.statusCode).toBe(403);
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('CSRF_INVALID');
  });

  it('names the missing field of a malformed login form', async () => {
    const { cookie, csrf } = await loginPage();
    const res = await postLogin(cookie, { email, _csrf: csrf }, '10.0.0.6');
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Password is required');
  });

  it('rate-limits login attempts per address', async () => {
    const { cookie, csrf } = await loginPage();
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await postLogin(cookie, { email, password: 'guess', _csrf: csrf }, '10.0.0.99')).statusCode);
    expect(codes.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(codes[4]).toBe(429);
    // Another address is not affected.
    const other = await loginPage();
    expect((await postLogin(other.cookie, { email, password, _csrf: other.csrf }, '10.0.0.100')).statusCode).toBe(303);
  });

  it('does not let a public client dodge the limit with a forged X-Forwarded-For', async () => {
    const { cookie, csrf } = await loginPage();
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({
        method: 'POST', url: '/control/login', remoteAddress: '203.0.113.7',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${i}` },
        payload: new URLSearchParams({ email, password: 'guess', _csrf: csrf }).toString(),
      });
      codes.push(res.statusCode);
    }
    expect(codes[4]).toBe(429);
  });

  it('logs out (CSRF-protected) and the old cookie no longer opens the panel', async () => {
    const b = await login(t, email, password);
    expect((await postForm(t, b, '/control/logout', {}, { csrf: null })).statusCode).toBe(403);
    const res = await postForm(t, b, '/control/logout');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/control/login');
    const dash = await t.app.inject({ method: 'GET', url: '/control', headers: { cookie: b.cookie } });
    expect(dash.statusCode).toBe(303);
  });

  it('ends access at once when the user is deactivated', async () => {
    const b = await login(t, email, password);
    await t.db.dataSource.query('UPDATE app_user SET is_active = false WHERE email = $1', [email]);
    const dash = await t.app.inject({ method: 'GET', url: '/control', headers: { cookie: b.cookie } });
    await t.db.dataSource.query('UPDATE app_user SET is_active = true WHERE email = $1', [email]);
    expect(dash.statusCode).toBe(303);
  });
});

describe("the session's organizer", () => {
  it('is the one the user last worked in, else the first by name and id, the same at every login', async () => {
    const zeta = await createOrganizer(t.db.dataSource, { name: 'Zeta Konzerte' });
    const alphas = [await createOrganizer(t.db.dataSource, { name: 'Alpha Events' }), await createOrganizer(t.db.dataSource, { name: 'Alpha Events' })];
    const first = [...alphas].sort((x, y) => (x.id < y.id ? -1 : 1))[0]!;
    const multi = await createUser(t, zeta);
    for (const o of alphas) {
      const [team] = await t.db.dataSource.query('INSERT INTO team (organizer_id, name, is_admin) VALUES ($1, $2, true) RETURNING id', [o.id, 'Admins']);
      await t.db.dataSource.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [team.id, multi.user.id]);
    }
    const lastOrganizer = async () => (await t.db.dataSource.query('SELECT last_organizer_id FROM app_user WHERE id = $1', [multi.user.id]))[0].last_organizer_id;
    let ip = 20;
    const logIn = async () => {
      const { cookie, csrf } = await loginPage();
      const res = await postLogin(cookie, { email: multi.email, password: multi.password, _csrf: csrf }, `10.0.1.${ip++}`);
      expect(res.statusCode).toBe(303);
      const next = cookieOf(res, cookie);
      return { cookie: next, csrf: csrfOf((await t.app.inject({ method: 'GET', url: '/control', headers: { cookie: next } })).body) };
    };

    // Nothing recorded yet: the first by name, and between equal names the first by id; twice the same.
    await logIn();
    expect(await lastOrganizer()).toBe(first.id);
    await logIn();
    expect(await lastOrganizer()).toBe(first.id);

    // Switching records the choice; the next login opens it again.
    const b = await logIn();
    expect((await postForm(t, b, '/control/organizer', { organizerId: zeta.id })).statusCode).toBe(303);
    expect(await lastOrganizer()).toBe(zeta.id);
    const again = await logIn();
    expect((await t.app.inject({ method: 'GET', url: '/control', headers: { cookie: again.cookie } })).body).toContain('Kassa · Zeta Konzerte');

    // Once they are no longer in it, the first by name again.
    await t.db.dataSource.query('DELETE FROM team_member WHERE user_id = $1 AND team_id IN (SELECT id FROM team WHERE organizer_id = $2)', [multi.user.id, zeta.id]);
    await logIn();
    expect(await lastOrganizer()).toBe(first.id);
  });
});
