import Stripe from 'stripe';
import { globalSettings, organizerSettings } from '@kassa/core/host';
import { STRIPE_API_VERSION, createWebhookEndpoint } from '../../src';
import { endpointSecret } from '../support/stripe-harness';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * The attack: an organizer that once pressed "Create webhook endpoint" while using the instance's
 * shared keys, then switched to keys of its own, knows its own endpoint's signing secret (Stripe's
 * dashboard shows it). Every secret stored at its level used to verify events of every account
 * with an endpoint there, the shared one included: it could sign events for the instance's
 * account. Now an account's events verify only with the secrets of that account's own endpoints.
 * (The button now refuses a level on the instance's keys, shared-keys-endpoint.test.ts; instances
 * upgraded from older versions still hold such endpoints, made here by the host's path.)
 */
describe('Stripe webhooks: an account\'s events verify only with its own endpoints\' secrets (HTTP)', () => {
  let h: ServerHarness;
  let admin: { cookie: string; csrf: string };
  let shared: string; // the instance's account
  let own: string; // the organizer's own account
  let sharedGlobalSecret: string;
  let sharedOrganizerSecret: string; // the endpoint the organizer made while using the shared keys
  let ownSecret: string; // the organizer's own account's endpoint: the organizer knows this one
  const OWN_KEY = 'sk_test_organizersOwnAccount';

  const inbox = async () => (await h.db.dataSource.query('SELECT account, event_id FROM stripe_webhook_inbox ORDER BY account, event_id')) as { account: string; event_id: string }[];
  const event = (id: string) => JSON.stringify({ id, object: 'event', type: 'payment_intent.created', api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000), data: { object: { id: 'pi_forged', object: 'payment_intent', metadata: {} } } });
  const deliver = (account: string, body: string, secret: string) => h.app.inject({
    method: 'POST', url: `/plugins/stripe/webhook/${account}`,
    headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) }, payload: body,
  });
  const control = (path: string, fields: Record<string, string>) => h.app.inject({
    method: 'POST', url: path, headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    payload: new URLSearchParams({ _csrf: admin.csrf, ...fields }).toString(),
  });
  /** What the endpoint's owner reads in Stripe's dashboard. */
  const secretOf = (endpointId: string) => endpointSecret({ settings: h.deps.settings, db: h.db }, endpointId);
  const createEndpoint = async () => {
    const res = await control('/plugins/stripe/control/webhook-endpoint', {});
    expect(res.statusCode).toBe(201);
    return res.json() as { endpointId: string; account: string };
  };

  beforeAll(async () => {
    h = await createServerHarness();
    // The host's endpoint for the instance's account (bootstrap does this at start).
    const host = await createWebhookEndpoint(h.rt, globalSettings);
    shared = host.account;
    sharedGlobalSecret = (await secretOf(host.endpointId))!;
    admin = await h.signIn(h.shop.organizer.id);
    // 1. While sharing the instance's keys, the organizer had an endpoint made: of the shared account
    //    (by an older version's button; today's refuses it).
    const refused = await control('/plugins/stripe/control/webhook-endpoint', {});
    expect([refused.statusCode, refused.json().error.code]).toEqual([409, 'STRIPE_INSTANCE_KEYS_IN_USE']);
    const first = await createWebhookEndpoint(h.rt, organizerSettings(h.shop.organizer.id));
    expect(first.account).toBe(shared);
    sharedOrganizerSecret = (await secretOf(first.endpointId))!;
    // 2. It switches to keys of its own, through its settings form…
    const saved = await control('/control/settings/payment/stripe', { _enabled: 'on', secretKey: OWN_KEY, publishableKey: h.emulator.keysFor(OWN_KEY).publishableKey, captureMethod: 'automatic' });
    expect(saved.statusCode).toBe(303);
    // 3. …and creates an endpoint of its own account, whose secret it can read in its dashboard.
    const second = await createEndpoint();
    own = second.account;
    expect(own).not.toBe(shared);
    ownSecret = (await secretOf(second.endpointId))!;
  });
  afterAll(async () => { await h.destroy(); });

  it("refuses an event for the shared account signed with the organizer's own account's secret: 400, nothing stored", async () => {
    const before = await inbox();
    const res = await deliver(shared, event('evt_forged_for_shared'), ownSecret);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'STRIPE_WEBHOOK_REFUSED' } });
    expect(await inbox()).toEqual(before);
    expect(h.jobs.filter((j) => String(j.jobId).includes('evt_forged_for_shared'))).toEqual([]);
  });

  it('accepts each account\'s events signed with the secrets of its own endpoints, and no other', async () => {
    expect((await deliver(shared, event('evt_shared_by_host_endpoint'), sharedGlobalSecret)).statusCode).toBe(200);
    expect((await deliver(shared, event('evt_shared_by_organizer_endpoint'), sharedOrganizerSecret)).statusCode).toBe(200);
    expect((await deliver(own, event('evt_own'), ownSecret)).statusCode).toBe(200);
    expect((await deliver(own, event('evt_own_signed_with_shared'), sharedOrganizerSecret)).statusCode).toBe(400);
    expect((await deliver(own, event('evt_own_signed_with_host'), sharedGlobalSecret)).statusCode).toBe(400);
    expect(await inbox()).toEqual([
      { account: own, event_id: 'evt_own' },
      { account: shared, event_id: 'evt_shared_by_host_endpoint' },
      { account: shared, event_id: 'evt_shared_by_organizer_endpoint' },
    ].sort((a, b) => a.account.localeCompare(b.account) || a.event_id.localeCompare(b.event_id)));
  });

  it('a rotation (a second endpoint of the own account) keeps both secrets valid for that account only', async () => {
    const third = await createEndpoint();
    expect(third.account).toBe(own);
    const rotated = (await secretOf(third.endpointId))!;
    expect((await deliver(own, event('evt_rotation_old'), ownSecret)).statusCode).toBe(200);
    expect((await deliver(own, event('evt_rotation_new'), rotated)).statusCode).toBe(200);
    expect((await deliver(shared, event('evt_rotation_forged'), rotated)).statusCode).toBe(400);
  });

  it.each([
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"evt_1"'],
    ['an object without id or type', '{}'],
    ['an event without data.object', JSON.stringify({ id: 'evt_nodata', object: 'event', type: 'payment_intent.created' })],
    ['an event id with a NUL character', JSON.stringify({ id: 'evt_nul', object: 'event', type: 'charge.updated', data: { object: { id: 'ch_1', object: 'charge' } } }).replace('evt_nul', 'evt_\\u0000nul')],
    ['a NUL character deep in the object', JSON.stringify({ id: 'evt_nul_deep', object: 'event', type: 'charge.updated', data: { object: { id: 'ch_1', object: 'charge', description: 'a\u0000b' } } })],
    ['a NUL character in a key', JSON.stringify({ id: 'evt_nul_key', object: 'event', type: 'charge.updated', data: { object: { id: 'ch_1', object: 'charge', metadata: { 'a\u0000': 'b' } } } })],
    ['an unpaired surrogate', JSON.stringify({ id: 'evt_surrogate', object: 'event', type: 'charge.updated', data: { object: { id: 'ch_1', object: 'charge' } } }).replace('"ch_1"', '"ch_\\ud800"')],
    ['nesting deeper than PostgreSQL parses', `{"id":"evt_deep","object":"event","type":"charge.updated","data":{"object":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}`],
  ])('a correctly signed webhook with %s answers 400 STRIPE_WEBHOOK_REFUSED and stores nothing, never 500', async (_label, body) => {
    const before = await inbox();
    const res = await deliver(own, body, ownSecret);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'STRIPE_WEBHOOK_REFUSED', message: expect.stringMatching(/not a Stripe event|NUL character|surrogate|nested deeper/) } });
    expect(await inbox()).toEqual(before);
  });
});

describe('"Create webhook endpoint" pressed again and again', () => {
  let h: ServerHarness;

  beforeAll(async () => { h = await createServerHarness(); });
  afterAll(async () => { await h.destroy(); });

  // An organizer that pressed the button 20 times used to fill its account's endpoints at Stripe
  // (16 at most in test mode), and every event of the account was sent to each of them. Retired
  // endpoints are deleted at Stripe. (On the instance's keys the button is refused outright:
  // shared-keys-endpoint.test.ts.)
  it("keeps the organizer's endpoints at Stripe to the secrets that still verify, and never fills the account", async () => {
    const host = await createWebhookEndpoint(h.rt, globalSettings);
    const admin = await h.signIn(h.shop.organizer.id);
    const OWN_KEY = 'sk_test_organizerPressingAgain';
    const saved = await h.app.inject({
      method: 'POST', url: '/control/settings/payment/stripe',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: admin.csrf, _enabled: 'on', secretKey: OWN_KEY, publishableKey: h.emulator.keysFor(OWN_KEY).publishableKey, captureMethod: 'automatic' }).toString(),
    });
    expect(saved.statusCode).toBe(303);
    const press = () => h.app.inject({
      method: 'POST', url: '/plugins/stripe/control/webhook-endpoint',
      headers: { cookie: admin.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': admin.csrf }, payload: {},
    });
    const answers: { account: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await press();
      expect(res.statusCode).toBe(201);
      answers.push(res.json());
    }
    const own = answers[0]!.account;
    expect(own).not.toBe(host.account);
    expect(answers.every((a) => a.account === own)).toBe(true);
    const endpointsAt = async (key: string) => {
      const atStripe = await fetch(`${h.emulator.url}/v1/webhook_endpoints?limit=100`, { headers: { authorization: `Bearer ${key}` } });
      return ((await atStripe.json()) as { data: { id: string }[] }).data.map((e) => e.id).sort();
    };
    const rowsOf = async (account: string) => ((await h.db.dataSource.query(
      `SELECT endpoint_id FROM stripe_webhook_endpoint WHERE account_id = $1 ORDER BY endpoint_id`, [account])) as { endpoint_id: string }[]).map((r) => r.endpoint_id);
    // The organizer's last five (SECRETS_PER_LEVEL); the same at Stripe and in our rows.
    const endpoints = await endpointsAt(OWN_KEY);
    expect(endpoints).toHaveLength(5);
    expect(await rowsOf(own)).toEqual(endpoints);
    // The instance's account holds the host's endpoint alone, and the operator can still create one.
    expect(await endpointsAt(h.instanceKey)).toEqual([host.endpointId]);
    expect((await createWebhookEndpoint(h.rt, globalSettings)).account).toBe(host.account);
  });
});
