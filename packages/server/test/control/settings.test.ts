import { BasePaymentProvider, eventSettings, globalSettings, organizerSettings, type JsonSchema, type PaymentOutcome } from '@kassa/core/host';
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
      // Where the gateway is: the operator's decision, for every plugin that declares such a field.
      gatewayUrl: { type: 'string', format: 'uri', 'x-instance-only': true, title: 'Gateway URL' },
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

  describe('instance-only settings (any plugin: here a gateway URL)', () => {
    const instanceGateway = 'https://gateway.example/v1';

    beforeAll(async () => {
      // What the operator's KASSA_INSTANCE_SETTINGS writes at start.
      await t.deps.settings.set(globalSettings, 'payment.secretpay', { gatewayUrl: instanceGateway });
    });

    it('the organizer and event forms do not show the field', async () => {
      for (const url of ['/control/settings/payment/secretpay', `/control/events/${a.event.id}/settings/payment/secretpay`]) {
        const page = await getPage(t, browserA, url);
        expect(page.statusCode).toBe(200);
        expect(page.body).not.toContain('gatewayUrl');
        expect(page.body).not.toContain(instanceGateway);
      }
    });

    it.each([
      ['organizer', () => '/control/settings/payment/secretpay', { gatewayUrl: 'https://evil.example/collect' }],
      ['event', () => `/control/events/${a.event.id}/settings/payment/secretpay`, { gatewayUrl: 'https://evil.example/collect' }],
      ['organizer (a reset)', () => '/control/settings/payment/secretpay', { reset_gatewayUrl: 'on' }],
    ])('a forged %s form setting it is refused with 400 naming the field, and nothing is written', async (_level, url, fields) => {
      const before = await t.db.dataSource.query('SELECT scope, key, value::text AS v FROM setting ORDER BY scope, scope_id, key');
      const res = await postForm(t, browserA, url(), { mode: 'test', ...fields });
      expect(res.statusCode).toBe(400);
      expect(res.body).toMatch(/gatewayUrl in payment\.secretpay is an instance-only setting/);
      expect(await t.db.dataSource.query('SELECT scope, key, value::text AS v FROM setting ORDER BY scope, scope_id, key')).toEqual(before);
      expect((await resolve(eventSettings(a.event))).gatewayUrl).toBe(instanceGateway);
    });

    it('the store refuses it below the global level with SETTINGS_INSTANCE_ONLY (400), whatever the caller', async () => {
      await expect(t.deps.settings.set(organizerSettings(b.organizer.id), 'payment.secretpay', { gatewayUrl: 'https://evil.example' }))
        .rejects.toMatchObject({ code: 'SETTINGS_INSTANCE_ONLY', status: 400, params: { field: 'gatewayUrl', namespace: 'payment.secretpay' } });
      await expect(t.deps.settings.set(eventSettings(b.event), 'payment.secretpay', { gatewayUrl: null }))
        .rejects.toMatchObject({ code: 'SETTINGS_INSTANCE_ONLY' });
    });

    it('a value planted in the table at organizer or event level is ignored: every level resolves the instance value', async () => {
      for (const [scope, scopeId] of [['organizer', b.organizer.id], ['event', b.event.id]]) {
        await t.db.dataSource.query(
          `INSERT INTO setting (scope, scope_id, namespace, key, value, encrypted) VALUES ($1, $2, 'payment.secretpay', 'gatewayUrl', $3::jsonb, false)`,
          [scope, scopeId, JSON.stringify('https://evil.example/planted')],
        );
      }
      expect((await resolve(organizerSettings(b.organizer.id))).gatewayUrl).toBe(instanceGateway);
      expect((await resolve(eventSettings(b.event))).gatewayUrl).toBe(instanceGateway);
      const display = await t.deps.settings.getForDisplay(eventSettings(b.event), 'payment.secretpay');
      expect(display.sources.gatewayUrl).toBe('global');
      const page = await getPage(t, browserB, `/control/events/${b.event.id}/settings/payment/secretpay`);
      expect(page.body).not.toContain('planted');
    });
  });
});
