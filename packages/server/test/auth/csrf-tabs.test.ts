import { cookieOf, createOrganizerFixture, createTestApp, csrfOf, type OrganizerFixture, type TestApp } from '../infra/test-app';

/*
 * Right after login, several tabs load at once (a restored browser session, links opened in new
 * tabs). Each page's CSRF token must stay valid: one per-session secret, created with the session.
 */
let t: TestApp;
let f: OrganizerFixture;

beforeAll(async () => {
  t = await createTestApp();
  f = await createOrganizerFixture(t);
});
afterAll(async () => t.close());

function post(cookie: string, url: string, fields: Record<string, string>) {
  return t.app.inject({
    method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    payload: new URLSearchParams(fields).toString(),
  });
}

it('keeps the forms of tabs opened at once after login all working, and still refuses a forged token', async () => {
  const page = await t.app.inject({ method: 'GET', url: '/control/login' });
  const res = await post(cookieOf(page), '/control/login', { email: f.email, password: f.password, _csrf: csrfOf(page.body) });
  expect(res.statusCode).toBe(303);
  const cookie = cookieOf(res, cookieOf(page));

  // Three tabs, loaded concurrently, each with a form.
  const tabs = await Promise.all(['/control/api-tokens', '/control/events/new', '/control/api-tokens'].map((url) =>
    t.app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } })));
  const tokens = tabs.map((tab) => {
    expect(tab.statusCode).toBe(200);
    return csrfOf(tab.body);
  });

  for (const [i, token] of tokens.entries()) {
    const created = await post(cookie, '/control/api-tokens', { name: `tab ${i}`, can_view_orders: 'on', all_events: 'on', _csrf: token });
    expect([i, created.statusCode]).toEqual([i, 200]);
  }
  const names = (await t.db.dataSource.query('SELECT name FROM api_token WHERE organizer_id = $1 ORDER BY name', [f.organizer.id])) as { name: string }[];
  expect(names.map((r) => r.name)).toEqual(expect.arrayContaining(['tab 0', 'tab 1', 'tab 2']));

  const forged = await post(cookie, '/control/api-tokens', { name: 'forged', _csrf: `${tokens[0]!.slice(0, -4)}AAAA` });
  expect(forged.statusCode).toBe(403);
  const missing = await post(cookie, '/control/api-tokens', { name: 'forged' });
  expect(missing.statusCode).toBe(403);
  expect((await t.db.dataSource.query("SELECT count(*)::int AS n FROM api_token WHERE name = 'forged'"))[0].n).toBe(0);
});
