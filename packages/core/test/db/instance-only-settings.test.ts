import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import {
  BasePaymentProvider, KassaError, SettingsStore, applyInstanceSettings, definePlugin, eventSettings, globalSettings, loadPlugins,
  organizerSettings, parseInstanceSettings, type PaymentOutcome,
} from '../../src/host';
import { sealSecret } from '../../src/settings/secret-box';

/**
 * A gateway as a plugin would declare it: a key pair that must come from one level (a unit), and a
 * gateway URL that decides where requests carrying the key go (instance-only).
 */
class RelayProvider extends BasePaymentProvider {
  readonly identifier = 'relay';
  readonly verboseName = 'Relay';
  override readonly settingsSchema = {
    type: 'object',
    properties: {
      apiKey: { type: 'string', pattern: '^key_', 'x-secret': true, 'x-unit': 'keys' },
      publicKey: { type: 'string', pattern: '^pub_', 'x-unit': 'keys' },
      gatewayUrl: { type: 'string', format: 'uri', default: 'https://gateway.example', 'x-instance-only': true },
      label: { type: 'string' },
    },
    additionalProperties: false,
  };
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'confirmed' });
  }
}

const loaded = loadPlugins([definePlugin({ name: 'relay', version: '1.0.0', coreRange: '*', providers: [RelayProvider] })]);
const NS = 'payment.relay';
const secretKey = randomBytes(32);

describe('instance-only settings and key units (SettingsStore on PostgreSQL)', () => {
  let db: TestDatabase;
  let store: SettingsStore;
  const org = randomUUID();
  const event = { id: randomUUID(), organizerId: org };

  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 3 });
    store = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey });
  });
  afterAll(async () => { await db.destroy(); });

  const refusal = async (work: Promise<unknown>): Promise<KassaError> => {
    try { await work; } catch (err) { if (err instanceof KassaError) return err; throw err; }
    throw new Error('expected a refusal');
  };
  const settingRows = () => db.dataSource.query('SELECT scope, scope_id, key FROM setting WHERE namespace = $1 ORDER BY scope, scope_id, key', [NS]);

  it('writes an instance-only key at the global level, and refuses it below (a removal too), writing nothing', async () => {
    await store.set(globalSettings, NS, { gatewayUrl: 'https://relay.instance.example', apiKey: 'key_instance', publicKey: 'pub_instance' });
    const before = await settingRows();
    for (const [target, patch] of [
      [organizerSettings(org), { gatewayUrl: 'https://evil.example', label: 'x' }],
      [eventSettings(event), { gatewayUrl: 'https://evil.example' }],
      [organizerSettings(org), { gatewayUrl: null }],
    ] as const) {
      const err = await refusal(store.set(target, NS, patch));
      expect(err).toMatchObject({ code: 'SETTINGS_INSTANCE_ONLY', status: 400, params: { namespace: NS, field: 'gatewayUrl' } });
      expect(err.message).toBe('gatewayUrl in payment.relay is an instance-only setting: only the operator sets it, in the configuration (KASSA_INSTANCE_SETTINGS)');
    }
    expect(await settingRows()).toEqual(before);
  });

  it('ignores an instance-only value planted below the global level, in resolve and in the display', async () => {
    await db.dataSource.query(
      `INSERT INTO setting (scope, scope_id, namespace, key, value, encrypted) VALUES ('event', $1, $2, 'gatewayUrl', '"https://evil.example/planted"', false)`,
      [event.id, NS],
    );
    expect((await store.resolve(eventSettings(event), NS)).gatewayUrl).toBe('https://relay.instance.example');
    const display = await store.getForDisplay(eventSettings(event), NS);
    expect(display.values.gatewayUrl).toBe('https://relay.instance.example');
    expect(display.sources.gatewayUrl).toBe('global');
  });

  it('resolves the keys of a unit from one level: an organizer\'s public key never pairs with the instance\'s secret key', async () => {
    // The organizer sets only its public key: the unit now comes from the organizer level, without an apiKey.
    await store.set(organizerSettings(org), NS, { publicKey: 'pub_organizer' });
    const mixed = await store.resolve(eventSettings(event), NS);
    expect(mixed.publicKey).toBe('pub_organizer');
    expect(mixed).not.toHaveProperty('apiKey');
    const display = await store.getForDisplay(eventSettings(event), NS);
    expect(display.values.apiKey).toEqual({ set: false });
    expect(display.sources.publicKey).toBe('organizer');
    // With both keys at the organizer level, both come from there; the instance's pair still applies above.
    await store.set(organizerSettings(org), NS, { apiKey: 'key_organizer' });
    expect(await store.resolve(eventSettings(event), NS)).toMatchObject({ apiKey: 'key_organizer', publicKey: 'pub_organizer' });
    expect(await store.resolve(globalSettings, NS)).toMatchObject({ apiKey: 'key_instance', publicKey: 'pub_instance' });
    // Removing the organizer's pair brings the instance's back, as a pair.
    await store.set(organizerSettings(org), NS, { apiKey: null, publicKey: null });
    expect(await store.resolve(eventSettings(event), NS)).toMatchObject({ apiKey: 'key_instance', publicKey: 'pub_instance' });
  });

  it('seals a plugin\'s own secret bound to its row: it opens only under the same binding', () => {
    const sealed = store.sealSecret('relay-endpoint:1', 'whsec_abc');
    expect(JSON.stringify(sealed)).not.toContain('whsec_abc');
    expect(store.openSecret('relay-endpoint:1', sealed)).toBe('whsec_abc');
    expect(() => store.openSecret('relay-endpoint:2', sealed)).toThrow(expect.objectContaining({ code: 'SETTINGS_DECRYPT_FAILED' }));
  });

  it('reads and drops the stored values of a retired key (one the schema no longer declares), decrypted', async () => {
    const other = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey });
    // A row an older plugin version wrote, sealed as the store seals secrets.
    const envelope = sealSecret(secretKey, ['whsec_old'], `kassa-setting:v1:organizer:${org}:${NS}:oldSecrets`);
    await db.dataSource.query(`INSERT INTO setting (scope, scope_id, namespace, key, value, encrypted) VALUES ('organizer', $1, $2, 'oldSecrets', $3::jsonb, true)`, [org, NS, JSON.stringify(envelope)]);
    expect(await other.retiredValues(NS, 'oldSecrets')).toEqual([{ scope: 'organizer', scopeId: org, value: ['whsec_old'] }]);
    await expect(other.retiredValues(NS, 'label')).rejects.toMatchObject({ code: 'SETTINGS_INVALID' });
    await other.dropRetired(NS, 'oldSecrets', 'organizer', org);
    expect(await other.retiredValues(NS, 'oldSecrets')).toEqual([]);
  });

  describe('applyInstanceSettings (KASSA_INSTANCE_SETTINGS at start)', () => {
    const logCount = async () => Number((await db.dataSource.query(`SELECT count(*) AS n FROM log_entry WHERE action = 'kassa.settings.changed' AND organizer_id IS NULL`))[0].n);

    it('writes what differs at the global level, instance-only keys included, and nothing when unchanged', async () => {
      const input = parseInstanceSettings(JSON.stringify({ [NS]: { gatewayUrl: 'https://relay.operator.example', apiKey: 'key_operator', publicKey: 'pub_operator' } }));
      expect(await applyInstanceSettings(store, input)).toEqual([{ namespace: NS, changed: ['apiKey', 'gatewayUrl', 'publicKey'] }]);
      expect(await store.resolve(eventSettings(event), NS)).toMatchObject({ gatewayUrl: 'https://relay.operator.example', apiKey: 'key_operator' });
      const logs = await logCount();
      expect(await applyInstanceSettings(store, input)).toEqual([]);
      expect(await logCount()).toBe(logs);
    });

    it('null removes a value at the global level (the default applies again)', async () => {
      await applyInstanceSettings(store, { [NS]: { gatewayUrl: null } });
      expect((await store.resolve(eventSettings(event), NS)).gatewayUrl).toBe('https://gateway.example');
    });

    it('refuses an unknown namespace or an invalid value with CONFIG_INVALID naming it, writing nothing', async () => {
      const before = await settingRows();
      await expect(applyInstanceSettings(store, { 'payment.nope': { a: 1 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/payment\.nope/) });
      await expect(applyInstanceSettings(store, { [NS]: { gatewayUrl: 'not a url' } })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/KASSA_INSTANCE_SETTINGS\.payment\.relay: gatewayUrl must match format "uri"/) });
      expect(await settingRows()).toEqual(before);
    });
  });
});
