import { createShop, type ShopFixture, type TestClock } from '@kassa/testing';
import { globalSettings, organizerSettings } from '@kassa/core/host';
import { STRIPE_NAMESPACE, createStripeClient } from '../../src';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * Connecting an organizer through the real server (session, CSRF, cookies): Standard accounts by
 * OAuth with a state bound to the organizer and the browser, Express accounts by account links,
 * and disconnecting. A refused answer stores nothing; another organizer never sees or touches it.
 */
describe('Stripe Connect: connecting an organizer', () => {
  let h: ServerHarness;
  let other: ShopFixture;
  const PAGE = '/plugins/stripe/control/connect';
  beforeAll(async () => {
    h = await createServerHarness();
    const keys = h.emulator.keysFor(h.instanceKey);
    // The operator's platform set-up: the instance's account is the platform.
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, {
      platformSecretKey: h.instanceKey, platformPublishableKey: keys.publishableKey, connectClientId: keys.clientId, connectAccountType: 'express',
    });
    other = await createShop(h.db.dataSource, { price: 1000 });
  });
  afterAll(async () => { await h.destroy(); });

  const platform = () => createStripeClient({ secretKey: h.instanceKey, apiBase: h.emulator.url, maxNetworkRetries: 0 });
  const rows = (organizerId: string) => h.db.dataSource.query(
    'SELECT account_id, account_type, charges_enabled, details_submitted, disconnected_at IS NOT NULL AS gone FROM stripe_connected_account WHERE organizer_id = $1 ORDER BY connected_at', [organizerId]);
  const tokenAt = async (organizerId: string) => (await h.deps.settings.resolve(organizerSettings(organizerId), STRIPE_NAMESPACE)).connectAccount;

  /** A signed-in admin's browser: its cookies (session, and the state cookie the server sets). */
  async function browser(organizerId: string) {
    const { cookie, csrf } = await h.signIn(organizerId);
    const jar = new Map(cookie.split('; ').map((c) => [c.split('=')[0] as string, c]));
    const keep = (res: { headers: Record<string, unknown> }) => {
      const set = res.headers['set-cookie'];
      for (const c of (Array.isArray(set) ? set : set ? [set] : []) as string[]) {
        const pair = c.split(';')[0] as string;
        jar.set(pair.split('=')[0] as string, pair);
      }
    };
    const cookies = () => [...jar.values()].join('; ');
    return {
      csrf,
      jar,
      async get(url: string) {
        const u = new URL(url, h.baseUrl);
        const res = await h.app.inject({ method: 'GET', url: `${u.pathname}${u.search}`, headers: { cookie: cookies() } });
        keep(res);
        return res;
      },
      async post(url: string, fields: Record<string, string> = {}) {
        const res = await h.app.inject({
          method: 'POST', url, headers: { cookie: cookies(), 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
        });
        keep(res);
        return res;
      },
    };
  }

  /** Stripe's authorize page, as the organizer answers it; returns where Stripe sends the browser back. */
  async function authorize(location: string, decision: 'allow' | 'deny'): Promise<string> {
    const q = new URL(location).searchParams;
    const res = await fetch(`${h.emulator.url}/oauth/authorize`, {
      method: 'POST', redirect: 'manual',
      body: new URLSearchParams({ client_id: q.get('client_id') ?? '', redirect_uri: q.get('redirect_uri') ?? '', state: q.get('state') ?? '', scope: 'read_write', decision }),
    });
    return res.headers.get('location') as string;
  }

  it('Standard via OAuth: the state round-trips, the code is exchanged, the account is stored and offered', async () => {
    const b = await browser(h.shop.organizer.id);
    const start = await b.get(`${PAGE}/oauth`);
    expect(start.statusCode).toBe(303);
    const location = String(start.headers.location);
    expect(location).toMatch(/\/oauth\/authorize\?/);
    expect(new URL(location).searchParams.get('redirect_uri')).toBe(`${h.baseUrl}${PAGE}/oauth/return`);
    expect(String(start.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Lax/);
    const back = await authorize(location, 'allow');
    const done = await b.get(back);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`${PAGE}?notice=connected`);
    const [row] = await rows(h.shop.organizer.id);
    expect(row).toMatchObject({ account_type: 'standard', charges_enabled: true, gone: false });
    expect(String(await tokenAt(h.shop.organizer.id))).toMatch(/^kc1\./);
    const page = await b.get(String(done.headers.location));
    expect(page.body).toContain(row.account_id);
    expect(page.body).toContain('Your Stripe account is connected.');
    // Replaying the same answer (back button, a leaked URL) is refused: the state is single use.
    const replay = await b.get(back);
    expect(replay.statusCode).toBe(400);
    expect(replay.body).toContain('STRIPE_CONNECT_STATE_INVALID');
    expect(await rows(h.shop.organizer.id)).toHaveLength(1);
  });

  it('a forged state (another organizer\'s, or one this browser never got) is refused and nothing is stored', async () => {
    const victim = await browser(other.organizer.id);
    const attacker = await browser(h.shop.organizer.id);
    // The attacker starts a flow of its own and sends its answer to the victim.
    const start = await attacker.get(`${PAGE}/oauth`);
    const back = await authorize(String(start.headers.location), 'allow');
    const res = await victim.get(back);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('STRIPE_CONNECT_STATE_INVALID');
    // Even with the attacker's cookie value copied in, the state belongs to another organizer.
    victim.jar.set('kassa_stripe_connect_state', attacker.jar.get('kassa_stripe_connect_state') as string);
    const copied = await victim.get(back);
    expect(copied.statusCode).toBe(400);
    expect(await rows(other.organizer.id)).toEqual([]);
    expect(await tokenAt(other.organizer.id)).toBeUndefined();
  });

  it('a state that expired is refused', async () => {
    const b = await browser(other.organizer.id);
    const start = await b.get(`${PAGE}/oauth`);
    const back = await authorize(String(start.headers.location), 'allow');
    (h.deps.clock as TestClock).advance({ minutes: 16 });
    expect((await b.get(back)).statusCode).toBe(400);
    expect(await rows(other.organizer.id)).toEqual([]);
  });

  it('denied at Stripe: explained, nothing stored', async () => {
    const b = await browser(other.organizer.id);
    const start = await b.get(`${PAGE}/oauth`);
    const back = await authorize(String(start.headers.location), 'deny');
    const res = await b.get(back);
    expect(res.headers.location).toBe(`${PAGE}?notice=denied`);
    expect((await b.get(String(res.headers.location))).body).toContain('You declined the connection at Stripe');
    expect(await rows(other.organizer.id)).toEqual([]);
  });

  it('a code that was used already is explained, and nothing is stored', async () => {
    const b = await browser(other.organizer.id);
    const first = await b.get(`${PAGE}/oauth`);
    const back = new URL(await authorize(String(first.headers.location), 'allow'));
    // The code is exchanged by someone else first (a second tab), then this browser returns with it.
    await platform().oauth.token({ grant_type: 'authorization_code', code: back.searchParams.get('code') as string });
    const res = await b.get(`${back.pathname}${back.search}`);
    expect(res.statusCode).toBe(303);
    const page = await b.get(String(res.headers.location));
    expect(page.body).toContain('expired or was already used');
    expect(await rows(other.organizer.id)).toEqual([]);
  });

  it('the actions are for admin teams; a forged form (no CSRF token) is refused', async () => {
    const b = await browser(other.organizer.id);
    await h.db.dataSource.query('UPDATE team SET is_admin = false WHERE organizer_id = $1', [other.organizer.id]);
    try {
      expect((await b.get(`${PAGE}/oauth`)).statusCode).toBe(404);
      expect((await b.post(`${PAGE}/onboard`)).statusCode).toBe(404);
    } finally {
      await h.db.dataSource.query('UPDATE team SET is_admin = true WHERE organizer_id = $1', [other.organizer.id]);
    }
    const forged = await h.app.inject({ method: 'POST', url: `${PAGE}/onboard`, headers: { cookie: [...b.jar.values()].join('; '), 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(forged.statusCode).toBe(403);
    expect(await rows(other.organizer.id)).toEqual([]);
  });

  it('Express via account links: a requirement left out keeps charges off; the refresh URL mints a new link; finished once all is provided', async () => {
    const b = await browser(other.organizer.id);
    const start = await b.post(`${PAGE}/onboard`);
    expect(start.headers.location).toBe(`${PAGE}?notice=created`);
    const go = await b.get(`${PAGE}/onboard/refresh`);
    expect(go.statusCode).toBe(303);
    const link = String(go.headers.location);
    expect(link).toMatch(/\/_emulator\/connect\/onboarding\//);
    const [created] = await rows(other.organizer.id);
    expect(created).toMatchObject({ account_type: 'express', charges_enabled: false });
    // A double click creates no second account.
    await b.post(`${PAGE}/onboard`);
    expect(await rows(other.organizer.id)).toHaveLength(1);
    // The onboarding page: everything ticked but the bank account.
    const html = await (await fetch(link)).text();
    const due = [...html.matchAll(/data-requirement="([^"]+)"/g)].map((m) => m[1] as string);
    expect(due).toContain('external_account');
    const form = new URLSearchParams({ form: '1' });
    due.filter((r) => r !== 'external_account').forEach((r, i) => form.set(`provide[${i}]`, r));
    const submitted = await fetch(`${link}/complete`, { method: 'POST', body: form, redirect: 'manual' });
    const ret = await b.get(String(submitted.headers.get('location')));
    expect(ret.headers.location).toBe(`${PAGE}?notice=incomplete`);
    expect(await rows(other.organizer.id)).toEqual([expect.objectContaining({ charges_enabled: false })]);
    const page = await b.get(String(ret.headers.location));
    expect(page.body).toContain('external_account');
    // The used link now sends the organizer to the refresh URL, which mints a new one.
    const used = await fetch(link, { redirect: 'manual' });
    const refreshed = await b.get(String(used.headers.get('location')));
    const fresh = String(refreshed.headers.location);
    expect(fresh).toMatch(/\/_emulator\/connect\/onboarding\//);
    expect(fresh).not.toBe(link);
    const finish = await fetch(`${fresh}/complete`, { method: 'POST', body: new URLSearchParams({ form: '1', 'provide[0]': 'external_account' }), redirect: 'manual' });
    const done = await b.get(String(finish.headers.get('location')));
    expect(done.headers.location).toBe(`${PAGE}?notice=onboarded`);
    expect(await rows(other.organizer.id)).toEqual([expect.objectContaining({ charges_enabled: true, details_submitted: true })]);
  });

  it('another organizer never sees the connection; disconnecting a Standard account deauthorizes it at Stripe', async () => {
    const [row] = await rows(h.shop.organizer.id);
    const outsider = await browser(other.organizer.id);
    expect((await outsider.get(PAGE)).body).not.toContain(row.account_id);
    const b = await browser(h.shop.organizer.id);
    const res = await b.post(`${PAGE}/disconnect`);
    expect(res.headers.location).toBe(`${PAGE}?notice=disconnected`);
    expect(await rows(h.shop.organizer.id)).toEqual([expect.objectContaining({ account_id: row.account_id, gone: true })]);
    expect(await tokenAt(h.shop.organizer.id)).toBeUndefined();
    await expect(platform().accounts.retrieve(row.account_id)).rejects.toMatchObject({ code: 'account_invalid' });
  });
});
