import { eventSettings, organizerSettings } from '@kassa/core/host';
import { STRIPE_NAMESPACE } from '../../src';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * The attack (issue 11): an organizer admin whose Stripe settings inherit the instance's keys
 * presses "Create webhook endpoint" at its organizer level and at each of its events, again and
 * again. Each level kept five endpoints of the instance's account at Stripe, so one organizer with
 * a few events filled the account's endpoint slots (16 in test mode) and left the operator none.
 * Now a level on the instance's keys gets no endpoint: the operator's endpoint (its own page)
 * delivers that account's events. Keys an organizer or event sets itself keep their button.
 */
describe('"Create webhook endpoint" on the instance\'s shared keys', () => {
  let h: ServerHarness;
  let admin: { cookie: string; csrf: string };
  const ENDPOINT = '/plugins/stripe/control/webhook-endpoint';

  const press = (body: Record<string, string>, as: 'json' | 'form') => h.app.inject({
    method: 'POST', url: ENDPOINT,
    headers: as === 'json'
      ? { cookie: admin.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': admin.csrf }
      : { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    payload: as === 'json' ? JSON.stringify(body) : new URLSearchParams({ _csrf: admin.csrf, ...body }).toString(),
  });
  /** Endpoints at Stripe (the emulator) of the account behind a key. */
  const endpointsAt = async (key: string) => {
    const res = await fetch(`${h.emulator.url}/v1/webhook_endpoints?limit=100`, { headers: { authorization: `Bearer ${key}` } });
    return ((await res.json()) as { data: { id: string }[] }).data.map((e) => e.id);
  };
  const stored = async () => ({
    endpoints: await h.db.dataSource.query('SELECT endpoint_id FROM stripe_webhook_endpoint'),
    accounts: await h.db.dataSource.query('SELECT account_id FROM stripe_account'),
  });
  const page = (url: string) => h.app.inject({ method: 'GET', url, headers: { cookie: admin.cookie } });
  const organizerPage = '/control/settings/payment/stripe';
  const eventPage = () => `/control/events/${h.shop.event.id}/settings/payment/stripe`;
  const keysOf = (key: string) => ({ secretKey: key, publishableKey: h.emulator.keysFor(key).publishableKey });

  beforeAll(async () => {
    h = await createServerHarness();
    admin = await h.signIn(h.shop.organizer.id);
  });
  afterAll(async () => { await h.destroy(); });

  it('is refused at the organizer and at its event, every time, as JSON and as a form: nothing at Stripe, nothing stored', async () => {
    const requestsBefore = h.emulator.stats().requests;
    for (let i = 0; i < 8; i++) {
      const bodies: Record<string, string>[] = [{}, { scope: 'organizer' }, { eventId: h.shop.event.id }, { scope: 'event', eventId: h.shop.event.id }];
      for (const body of bodies) {
        for (const as of ['json', 'form'] as const) {
          const res = await press(body, as);
          expect([res.statusCode, res.json().error.code]).toEqual([409, 'STRIPE_INSTANCE_KEYS_IN_USE']);
          expect(res.json().error.message).toMatch(/instance's keys: the instance's operator creates their webhook endpoint/);
        }
      }
    }
    // Refused before any call to Stripe (not even "whose keys are these?").
    expect(h.emulator.stats().requests).toBe(requestsBefore);
    expect(await endpointsAt(h.instanceKey)).toEqual([]);
    expect(await stored()).toEqual({ endpoints: [], accounts: [] });
    expect(h.jobs).toEqual([]);
  });

  it('the organizer\'s and the event\'s settings pages explain it instead of offering the button', async () => {
    for (const url of [organizerPage, eventPage()]) {
      const res = await page(url);
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('data-testid="create-webhook-endpoint"');
      expect(res.body).not.toContain('id="webhook-endpoint-form"');
      expect(res.body).toMatch(/data-testid="webhook-endpoint-by-operator">These settings use the instance's Stripe keys, so the instance's operator creates their webhook endpoint/);
    }
  });

  it('keys the event sets itself get their endpoint, while the organizer on the instance\'s keys is still refused', async () => {
    const EVENT_KEY = 'sk_test_eventsOwnAccount';
    await h.deps.settings.set(eventSettings(h.shop.event), STRIPE_NAMESPACE, keysOf(EVENT_KEY));
    expect((await page(eventPage())).body).toContain('data-testid="create-webhook-endpoint"');
    expect((await page(organizerPage)).body).toContain('data-testid="webhook-endpoint-by-operator"');
    const res = await press({ eventId: h.shop.event.id }, 'form');
    expect(res.statusCode).toBe(201);
    expect(await endpointsAt(EVENT_KEY)).toEqual([res.json().endpointId]);
    expect((await press({}, 'json')).statusCode).toBe(409);
    expect(await endpointsAt(h.instanceKey)).toEqual([]);
    // Back on the instance's keys, the event is refused again.
    await h.deps.settings.set(eventSettings(h.shop.event), STRIPE_NAMESPACE, { secretKey: null, publishableKey: null });
    expect((await press({ eventId: h.shop.event.id }, 'json')).statusCode).toBe(409);
  });

  it('keys the organizer sets itself get their endpoint at the organizer and at its events, which inherit them', async () => {
    const OWN_KEY = 'sk_test_organizersOwnKeys';
    await h.deps.settings.set(organizerSettings(h.shop.organizer.id), STRIPE_NAMESPACE, keysOf(OWN_KEY));
    for (const url of [organizerPage, eventPage()]) {
      const body = (await page(url)).body;
      expect(body).toContain('data-testid="create-webhook-endpoint"');
      expect(body).not.toContain('webhook-endpoint-by-operator');
    }
    const atOrganizer = await press({}, 'json');
    const atEvent = await press({ eventId: h.shop.event.id }, 'form');
    expect([atOrganizer.statusCode, atEvent.statusCode]).toEqual([201, 201]);
    expect((await endpointsAt(OWN_KEY)).sort()).toEqual([atOrganizer.json().endpointId, atEvent.json().endpointId].sort());
    expect(await endpointsAt(h.instanceKey)).toEqual([]);
  });
});
