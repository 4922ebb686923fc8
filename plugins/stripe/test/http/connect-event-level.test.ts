import { createEvent, createProduct, createQuota, createShop, type ShopFixture } from '@kassa/testing';
import { eventSettings, globalSettings, organizerSettings } from '@kassa/core/host';
import { STRIPE_NAMESPACE, createStripeClient, saveConnection } from '../../src';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * Connecting one event of an organizer through the real server: the event id rides in the OAuth
 * state's row (Standard) and in the onboarding links' URLs (Express), is checked against the
 * signed-in organizer each time, and the event's payments then go to its own account while the
 * organizer's other events keep the organizer's.
 */
describe('Stripe Connect: connecting one event', () => {
  let h: ServerHarness;
  let other: ShopFixture;
  let orgAccount: string;
  const ev: { id: string; productId: string }[] = [];
  const PAGE = '/plugins/stripe/control/connect';
  beforeAll(async () => {
    h = await createServerHarness();
    const keys = h.emulator.keysFor(h.instanceKey);
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, {
      platformSecretKey: h.instanceKey, platformPublishableKey: keys.publishableKey, connectClientId: keys.clientId,
      connectAccountType: 'express', connectChargeModel: 'destination',
    });
    other = await createShop(h.db.dataSource, { price: 1000 });
    // The organizer's own connection, onboarded: what its events use unless they have their own.
    const a = await platform().accounts.create({ type: 'express', country: 'US', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
    await fetch(`${h.emulator.url}/_emulator/accounts/${a.id}/complete_onboarding`, { method: 'POST' });
    orgAccount = (await saveConnection(h.rt, { organizerId: h.shop.organizer.id, eventId: null, account: await platform().accounts.retrieve(a.id) })).accountId;
    for (let i = 0; i < 2; i += 1) {
      const e = await createEvent(h.db.dataSource, { organizerId: h.shop.organizer.id, name: `Side event ${i}` });
      const p = await createProduct(h.db.dataSource, e.id, { price: 1000 });
      await createQuota(h.db.dataSource, e.id, [p], 100);
      ev.push({ id: e.id, productId: p.id });
    }
  });
  afterAll(async () => { await h.destroy(); });

  const platform = () => createStripeClient({ secretKey: h.instanceKey, apiBase: h.emulator.url, maxNetworkRetries: 0 });
  const rows = (organizerId: string) => h.db.dataSource.query(
    `SELECT account_id, account_type, event_id, charges_enabled, disconnected_at IS NOT NULL AS gone FROM stripe_connected_account
      WHERE organizer_id = $1 ORDER BY connected_at`, [organizerId]);
  const liveRows = async (organizerId: string) => (await rows(organizerId)).filter((r: { gone: boolean }) => !r.gone);
  const count = async (table: string) => Number((await h.db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

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

  async function authorize(location: string, decision: 'allow' | 'deny'): Promise<string> {
    const q = new URL(location).searchParams;
    const res = await fetch(`${h.emulator.url}/oauth/authorize`, {
      method: 'POST', redirect: 'manual',
      body: new URLSearchParams({ client_id: q.get('client_id') ?? '', redirect_uri: q.get('redirect_uri') ?? '', state: q.get('state') ?? '', scope: 'read_write', decision }),
    });
    return res.headers.get('location') as string;
  }

  /** An order of the event, paid with Stripe up to the intent: the destination the intent carries. */
  async function destinationOf(eventId: string, productId: string): Promise<string | null> {
    const placed = await h.deps.core.orders.placeOrder({ eventId, email: 'b@example.org', positions: [{ productId }], provider: 'stripe' });
    await h.deps.core.payments.executePayment(placed.payment!.id, {});
    const [row] = await h.db.dataSource.query('SELECT info FROM order_payment WHERE id = $1', [placed.payment!.id]);
    const pi = await platform().paymentIntents.retrieve((row.info as { intentId: string }).intentId);
    return (pi.transfer_data?.destination as string | undefined) ?? null;
  }

  it('Standard via OAuth for one event: stored for that event; its payments go to it, the other events\' to the organizer\'s', async () => {
    const b = await browser(h.shop.organizer.id);
    const start = await b.get(`${PAGE}/oauth?event=${ev[0]!.id}`);
    expect(start.statusCode).toBe(303);
    // Stripe's redirect_uri stays the one registered: the event is in the state's row.
    expect(new URL(String(start.headers.location)).searchParams.get('redirect_uri')).toBe(`${h.baseUrl}${PAGE}/oauth/return`);
    const back = await authorize(String(start.headers.location), 'allow');
    // An event id added to the return URL changes nothing: the state decides the level.
    const done = await b.get(`${back}&event=${ev[1]!.id}`);
    expect(done.headers.location).toBe(`${PAGE}?notice=connected`);
    const live = await liveRows(h.shop.organizer.id);
    expect(live).toEqual([
      expect.objectContaining({ account_id: orgAccount, event_id: null }),
      expect.objectContaining({ account_type: 'standard', event_id: ev[0]!.id, charges_enabled: true }),
    ]);
    const eventAccount = live[1].account_id as string;
    expect(String((await h.deps.settings.resolve(eventSettings({ id: ev[0]!.id, organizerId: h.shop.organizer.id }), STRIPE_NAMESPACE)).connectAccount)).toMatch(/^kc1\./);
    // The Connect page lists the event with its own account, the other with the organizer's.
    const page = await b.get(PAGE);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(new RegExp(`data-event="${ev[0]!.id}"[\\s\\S]*?${eventAccount}`));
    expect(page.body).toMatch(new RegExp(`data-event="${ev[1]!.id}"[\\s\\S]*?the organizer's account`));
    expect(await destinationOf(ev[0]!.id, ev[0]!.productId)).toBe(eventAccount);
    expect(await destinationOf(ev[1]!.id, ev[1]!.productId)).toBe(orgAccount);
    expect(await destinationOf(h.shop.event.id, h.shop.product.id)).toBe(orgAccount);
  });

  it('another organizer\'s event (or no event) is not found, for every action, and nothing is stored', async () => {
    const b = await browser(h.shop.organizer.id);
    const states = await count('stripe_connect_state');
    const accounts = await count('stripe_connected_account');
    const before = (await platform().accounts.list({ limit: 100 })).data.length;
    for (const id of [other.event.id, '00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      expect((await b.get(`${PAGE}/oauth?event=${id}`)).statusCode).toBe(404);
      expect((await b.post(`${PAGE}/onboard`, { event: id })).statusCode).toBe(404);
      expect((await b.get(`${PAGE}/onboard/refresh?event=${id}`)).statusCode).toBe(404);
      expect((await b.get(`${PAGE}/onboard/return?event=${id}`)).statusCode).toBe(404);
      expect((await b.post(`${PAGE}/disconnect`, { event: id })).statusCode).toBe(404);
    }
    expect(await count('stripe_connect_state')).toBe(states);
    expect(await count('stripe_connected_account')).toBe(accounts);
    expect((await platform().accounts.list({ limit: 100 })).data.length).toBe(before);
    expect(await rows(other.organizer.id)).toEqual([]);
    // The other organizer's own event page is untouched too.
    expect((await h.deps.settings.resolve(eventSettings(other.event), STRIPE_NAMESPACE)).connectAccount).toBeUndefined();
  });

  it('a forged state for an event (started by another organizer) is refused and nothing is stored', async () => {
    const attacker = await browser(other.organizer.id);
    const victim = await browser(h.shop.organizer.id);
    const start = await attacker.get(`${PAGE}/oauth?event=${other.event.id}`);
    expect(start.statusCode).toBe(303);
    const back = await authorize(String(start.headers.location), 'allow');
    const accounts = await count('stripe_connected_account');
    const res = await victim.get(`${back}&event=${ev[1]!.id}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('STRIPE_CONNECT_STATE_INVALID');
    expect(await count('stripe_connected_account')).toBe(accounts);
    // The event still resolves the organizer's connection (nothing of its own was set).
    expect((await h.deps.settings.resolve(eventSettings({ id: ev[1]!.id, organizerId: h.shop.organizer.id }), STRIPE_NAMESPACE)).connectAccount)
      .toBe((await h.deps.settings.resolve(organizerSettings(h.shop.organizer.id), STRIPE_NAMESPACE)).connectAccount);
  });

  it('Express onboarding for one event: the links carry the event back; finished at the event\'s level only', async () => {
    const b = await browser(h.shop.organizer.id);
    expect((await b.post(`${PAGE}/onboard`, { event: ev[1]!.id })).headers.location).toBe(`${PAGE}?notice=created`);
    // A double click creates no second account.
    await b.post(`${PAGE}/onboard`, { event: ev[1]!.id });
    const created = (await liveRows(h.shop.organizer.id)).filter((r: { event_id: string | null }) => r.event_id === ev[1]!.id);
    expect(created).toEqual([expect.objectContaining({ account_type: 'express', charges_enabled: false })]);
    expect((await platform().accounts.retrieve(created[0].account_id)).metadata).toMatchObject({ kassa_event_id: ev[1]!.id });
    const go = await b.get(`${PAGE}/onboard/refresh?event=${ev[1]!.id}`);
    const link = String(go.headers.location);
    expect(link).toMatch(/\/_emulator\/connect\/onboarding\//);
    const html = await (await fetch(link)).text();
    const due = [...html.matchAll(/data-requirement="([^"]+)"/g)].map((m) => m[1] as string);
    const form = new URLSearchParams({ form: '1' });
    due.forEach((r, i) => form.set(`provide[${i}]`, r));
    const submitted = await fetch(`${link}/complete`, { method: 'POST', body: form, redirect: 'manual' });
    const returnUrl = String(submitted.headers.get('location'));
    expect(new URL(returnUrl).searchParams.get('event')).toBe(ev[1]!.id);
    const ret = await b.get(returnUrl);
    expect(ret.headers.location).toBe(`${PAGE}?notice=onboarded`);
    const live = await liveRows(h.shop.organizer.id);
    expect(live.find((r: { event_id: string | null }) => r.event_id === ev[1]!.id)).toMatchObject({ account_id: created[0].account_id, charges_enabled: true });
    // The organizer's own connection is untouched.
    expect(live.find((r: { event_id: string | null }) => r.event_id === null)).toMatchObject({ account_id: orgAccount, gone: false });
    expect(await destinationOf(ev[1]!.id, ev[1]!.productId)).toBe(created[0].account_id);
  });

  it('disconnecting an event deauthorizes its Standard account; the event falls back to the organizer\'s account', async () => {
    const b = await browser(h.shop.organizer.id);
    const eventAccount = (await liveRows(h.shop.organizer.id)).find((r: { event_id: string | null }) => r.event_id === ev[0]!.id).account_id as string;
    const res = await b.post(`${PAGE}/disconnect`, { event: ev[0]!.id });
    expect(res.headers.location).toBe(`${PAGE}?notice=disconnected`);
    const all = await rows(h.shop.organizer.id);
    expect(all.find((r: { account_id: string }) => r.account_id === eventAccount)).toMatchObject({ gone: true });
    expect(all.find((r: { account_id: string }) => r.account_id === orgAccount)).toMatchObject({ gone: false });
    await expect(platform().accounts.retrieve(eventAccount)).rejects.toMatchObject({ code: 'account_invalid' });
    expect(await destinationOf(ev[0]!.id, ev[0]!.productId)).toBe(orgAccount);
  });
});
