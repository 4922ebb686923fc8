import { definePlugin, loadPlugins } from '@kassa/core/host';
import { createOrganizerFixture, createTestApp, login, type Browser, type OrganizerFixture, type TestApp } from '../infra/test-app';

/*
 * Plugins contribute notices to the organizer's dashboard (PluginDefinition.dashboardNotices): the
 * host asks each with the signed-in organizer, escapes the text, links only its own paths, and a
 * plugin that throws, hangs or answers nonsense loses its notices, never the page.
 */
const asked: { organizerId: string; plugin: string }[] = [];
const noticer = definePlugin({
  name: 'noticer', version: '0.0.0', coreRange: '*',
  dashboardNotices: async (organizerId, rt) => {
    asked.push({ organizerId, plugin: rt.plugin });
    return [
      { level: 'danger', message: `Needs <script>alert(1)</script> for ${organizerId}`, url: '/plugins/noticer/fix', deadline: new Date('2031-05-04T03:02:00Z') },
      { level: 'info', message: 'Look elsewhere', url: 'https://evil.example/' },
      { level: 'info', message: 'Protocol-relative', url: '//evil.example/' },
      { level: 'shout' as 'info', message: 'Unknown level' },
    ];
  },
});
const thrower = definePlugin({ name: 'thrower', version: '0.0.0', coreRange: '*', dashboardNotices: async () => { throw new Error('boom'); } });
const sleeper = definePlugin({ name: 'sleeper', version: '0.0.0', coreRange: '*', dashboardNotices: () => new Promise(() => undefined) });
const wrong = definePlugin({ name: 'wrong', version: '0.0.0', coreRange: '*', dashboardNotices: async () => 'not a list' as never });

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let adminA: Browser;
let adminB: Browser;

beforeAll(async () => {
  // Every dashboard (the logins' too) waits for the sleeper until the timeout: a short one.
  t = await createTestApp({ dashboardNoticeTimeoutMs: 200 }, { pluginDashboardNotices: loadPlugins([noticer, thrower, sleeper, wrong]).dashboardNotices });
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  adminA = await login(t, a.email, a.password);
  adminB = await login(t, b.email, b.password);
});
afterAll(async () => { await t.close(); });

const dashboard = (br: Browser) => t.app.inject({ method: 'GET', url: '/control', headers: { cookie: br.cookie } });

describe('plugin notices on the dashboard', () => {
  it('shows each notice at the top, escaped, with its deadline and link; the figures are there despite a plugin that throws, hangs or answers nonsense', async () => {
    const res = await dashboard(adminA);
    expect(res.statusCode).toBe(200);
    const body = res.body;
    const notices = body.slice(body.indexOf('id="plugin-notices"'), body.indexOf('id="attention"'));
    expect(notices).toContain(`Needs &lt;script&gt;alert(1)&lt;/script&gt; for ${a.organizer.id}`);
    expect(body).not.toContain('<script>alert(1)</script>');
    expect(notices).toContain('Deadline: 2031-05-04 03:02 UTC');
    expect(notices).toContain('href="/plugins/noticer/fix"');
    expect(notices).toMatch(/class="flash flash-error plugin-notice"/);
    // Shown, but not linked: a notice never sends the organizer to another site.
    expect(notices).toContain('Look elsewhere');
    expect(notices).toContain('Protocol-relative');
    expect(notices).not.toContain('evil.example');
    expect(notices).not.toContain('Unknown level');
    expect(body.indexOf('id="plugin-notices"')).toBeLessThan(body.indexOf('id="attention"'));
    for (const figure of ['fig-open', 'fig-overpaid', 'fig-refunds', 'fig-external', 'fig-instalments']) expect(body).toContain(`id="${figure}"`);
  });

  it('asks with the signed-in organizer only: B never sees A\'s notices', async () => {
    asked.length = 0;
    const res = await dashboard(adminB);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`for ${b.organizer.id}`);
    expect(res.body).not.toContain(a.organizer.id);
    expect(asked).toEqual([{ organizerId: b.organizer.id, plugin: 'noticer' }]);
  });

  it('the loader refuses a dashboardNotices that is not a function', () => {
    const bad = { ...definePlugin({ name: 'bad', version: '0.0.0', coreRange: '*' }), dashboardNotices: 'yes' };
    expect(() => loadPlugins([bad])).toThrow(/dashboardNotices must be a function/);
  });
});
