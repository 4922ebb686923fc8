import { BasePaymentProvider, eventSettings, organizerSettings, type JsonSchema, type PaymentOutcome } from '@kassa/core';
import { createOrganizerFixture, createTestApp, getPage, login, postForm, type Browser, type OrganizerFixture, type TestApp } from '../infra/test-app';

/** A provider with a secret setting, as a gateway plugin would declare it. */
class SecretPayProvider extends BasePaymentProvider {
  readonly identifier = 'secretpay';
  readonly verboseName = 'SecretPay';
  override readonly settingsSchema: JsonSchema = {
    type: 'object',
    properties: {
      apiKey: { type: 'string', 'x-secret': true, minLength: 8, title: 'API key' },
      mode: { type: 'string', enum: ['test', 'live'], title: 'Mode' },
      statementDescriptor: { type: 'string', maxLength: 22, title: 'Statement descriptor' },
    },
    required: ['apiKey'],
    additionalProperties: false,
  };
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'pending' });
  }
}

const secret = 'sk_live_TOPSECRET_123456';
let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
let browserA: Browser;
let browserB: Browser;

beforeAll(async () => {
  t = await createTestApp({}, {}, [new SecretPayProvider()]);
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
  browserA = await login(t, a.email, a.password);
  browserB = await login(t, b.email, b.password);
});
afterAll(async () => t.close());

const resolve = (target: Parameters<TestApp['deps']['settings']['resolve']>[0]) => t.deps.settings.resolve(target, 'payment.secretpay');

describe('payment provider settings', () => {
  it('renders a form from the JSON Schema, listing every provider', async () => {
    const list = await getPage(t, browserA, '/control/settings/payment');
    expect(list.body).toContain('SecretPay');
    expect(list.body).toContain('Manual payment');
    const form = await getPage(t, browserA, '/control/settings/payment/secretpay');
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="apiKey"');
    expect(form.body).toContain('type="password"');
    expect(form.body).toMatch(/<select id="f-mode" name="mode">[\s\S]*<option value="live"/);
    expect(form.body).toContain('name="_feeAbs"');
  });

  it('saves organizer defaults, stores the secret encrypted and never renders it', async () => {
    const res = await postForm(t, browserA, '/control/settings/payment/secretpay', { _enabled: 'on', apiKey: secret, mode: 'live' });
    expect(res.statusCode).toBe(303);
    expect(await resolve(organizerSettings(a.organizer.id))).toMatchObject({ _enabled: true, apiKey: secret, mode: 'live' });
    const raw = await t.db.dataSource.query("SELECT value::text AS v FROM setting WHERE key = 'apiKey'");
    expect(raw[0].v).not.toContain('TOPSECRET');
    for (const url of ['/control/settings/payment/secretpay', `/control/events/${a.event.id}/settings/payment/secretpay`, '/control/settings/payment']) {
      const page = await getPage(t, browserA, url);
      expect(page.body).not.toContain('TOPSECRET');
    }
    expect((await getPage(t, browserA, '/control/settings/payment/secretpay')).body).toContain('stored — type to replace');
  });

  it('keeps a stored secret when its field is left empty, and lets an event override one value only', async () => {
    const res = await postForm(t, browserA, `/control/events/${a.event.id}/settings/payment/secretpay`, { _enabled: 'on', apiKey: '', mode: 'test' });
    expect(res.statusCode).toBe(303);
    expect(await resolve(eventSettings(a.event))).toMatchObject({ apiKey: secret, mode: 'test' });
    expect(await resolve(organizerSettings(a.organizer.id))).toMatchObject({ mode: 'live' });
    const rows = await t.db.dataSource.query("SELECT key FROM setting WHERE scope = 'event' AND namespace = 'payment.secretpay'");
    expect(rows.map((r: { key: string }) => r.key)).toEqual(['mode']);
  });

  it('shows ajv errors beside their field with 400, writing nothing, and never echoes the typed secret', async () => {
    const before = await t.db.dataSource.query('SELECT count(*)::int AS n FROM setting');
    const res = await postForm(t, browserA, '/control/settings/payment/secretpay', { _enabled: 'on', apiKey: 'short-SECRETISH', statementDescriptor: 'x'.repeat(30), _feeAbs: '-5' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/class="field has-error"[\s\S]{0,800}statementDescriptor must NOT have more than 22 characters/);
    expect(res.body).not.toContain('short-SECRETISH');
    expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM setting')).toEqual(before);
  });

  it("answers 404 to another organizer's user for an event's settings, and keeps organizer defaults apart", async () => {
    expect((await getPage(t, browserB, `/control/events/${a.event.id}/settings/payment/secretpay`)).statusCode).toBe(404);
    expect((await postForm(t, browserB, `/control/events/${a.event.id}/settings/payment/secretpay`, { mode: 'test' })).statusCode).toBe(404);
    const theirs = await getPage(t, browserB, '/control/settings/payment/secretpay');
    expect(theirs.body).toContain('not set');
    expect(await resolve(organizerSettings(b.organizer.id))).not.toHaveProperty('apiKey');
  });

  it('answers 404 for an unknown provider and refuses a form without CSRF', async () => {
    expect((await getPage(t, browserA, '/control/settings/payment/nope')).statusCode).toBe(404);
    expect((await postForm(t, browserA, '/control/settings/payment/secretpay', { mode: 'test' }, { csrf: null })).statusCode).toBe(403);
    expect((await resolve(organizerSettings(a.organizer.id))).mode).toBe('live');
  });
});
