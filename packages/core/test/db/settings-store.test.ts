import { randomBytes, randomUUID } from 'node:crypto';
import { createEvent, createTestDatabase, type TestDatabase } from '@kassa/testing';
import {
  BasePaymentProvider, KassaError, SettingsStore, definePlugin, eventSettings, globalSettings, loadPlugins, organizerSettings,
  type PaymentOutcome, type SettingsTarget,
} from '../../src/host';

/** A provider with a secret, to exercise encryption through the real plugin loader. */
class GatewayProvider extends BasePaymentProvider {
  readonly identifier = 'gateway';
  readonly verboseName = 'Gateway';
  override readonly settingsSchema = {
    type: 'object',
    properties: {
      apiKey: { type: 'string', pattern: '^key_', 'x-secret': true },
      mode: { type: 'string', enum: ['test', 'live'], default: 'test' },
    },
    required: ['apiKey'],
    additionalProperties: false,
  };
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'confirmed' });
  }
}

const loaded = loadPlugins([definePlugin({ name: 'gateway', version: '1.0.0', coreRange: '*', providers: [GatewayProvider] })]);
const key = randomBytes(32);
const plaintext = 'key_live_51Hc0ffeeDeadBeef';

describe('SettingsStore on PostgreSQL', () => {
  let db: TestDatabase;
  let store: SettingsStore;
  const org = randomUUID();
  const otherOrg = randomUUID();
  const eventA = { id: randomUUID(), organizerId: org };
  const eventB = { id: randomUUID(), organizerId: org };
  const eventC = { id: randomUUID(), organizerId: otherOrg };

  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 4 });
    store = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: key });
  });
  afterAll(async () => { await db.destroy(); });

  const rows = (namespace: string): Promise<{ scope: string; scope_id: string; key: string; value: unknown; encrypted: boolean }[]> =>
    db.dataSource.query('SELECT scope, scope_id, key, value, encrypted FROM setting WHERE namespace = $1 ORDER BY scope, scope_id, key', [namespace]);
  const logCount = async (): Promise<number> => Number((await db.dataSource.query(`SELECT count(*) AS n FROM log_entry WHERE action = 'kassa.settings.changed'`))[0].n);
  async function refusal(work: Promise<unknown>): Promise<KassaError> {
    try { await work; } catch (err) { if (err instanceof KassaError) return err; throw err; }
    throw new Error('expected a refusal');
  }

  describe('hierarchy (global → organizer → event)', () => {
    beforeAll(async () => {
      await store.set(globalSettings, 'payment.manual', { _feeAbs: 10 });
      await store.set(organizerSettings(org), 'payment.manual', { _feeAbs: 20, _feePercent: '1.5' });
      await store.set(eventSettings(eventA), 'payment.manual', { _feeAbs: 30 });
    });

    it('resolves the deepest level that has a value, key by key', async () => {
      expect(await store.resolve(eventSettings(eventA), 'payment.manual')).toMatchObject({ _feeAbs: 30, _feePercent: '1.5' });
      expect(await store.resolve(eventSettings(eventB), 'payment.manual')).toMatchObject({ _feeAbs: 20, _feePercent: '1.5' });
      expect(await store.resolve(eventSettings(eventC), 'payment.manual')).toMatchObject({ _feeAbs: 10, _feePercent: '0' });
      expect(await store.resolve(globalSettings, 'payment.manual')).toMatchObject({ _feeAbs: 10 });
    });

    it('fills defaults below every level (manual is disabled until enabled, fees reverse-calculated)', async () => {
      expect(await store.resolve(eventSettings(eventC), 'payment.manual')).toEqual({
        _enabled: false, _feeAbs: 10, _feePercent: '0', _feeReverseCalc: true, _restrictedCountries: [],
      });
      expect(await store.resolve(eventSettings(eventC), 'payment.free')).toMatchObject({ _enabled: true });
    });

    it('reports where each displayed value comes from', async () => {
      expect(await store.getForDisplay(eventSettings(eventA), 'payment.manual')).toMatchObject({
        values: { _feeAbs: 30, _feePercent: '1.5', _enabled: false },
        sources: { _feeAbs: 'event', _feePercent: 'organizer' },
      });
    });

    it('null removes a value at one level, so the level above applies again', async () => {
      await store.set(eventSettings(eventB), 'payment.manual', { _feeAbs: 99 });
      await store.set(eventSettings(eventB), 'payment.manual', { _feeAbs: null });
      expect(await store.resolve(eventSettings(eventB), 'payment.manual')).toMatchObject({ _feeAbs: 20 });
      expect((await rows('payment.manual')).filter((r) => r.scope_id === eventB.id)).toEqual([]);
    });

    it('logs each change with its keys, in the same transaction', async () => {
      const entries = await db.dataSource.query(
        `SELECT organizer_id, event_id, object_id, data FROM log_entry WHERE action = 'kassa.settings.changed' AND event_id = $1`, [eventA.id]);
      expect(entries).toEqual([{ organizer_id: org, event_id: eventA.id, object_id: 'payment.manual', data: { namespace: 'payment.manual', scope: 'event', changed: ['_feeAbs'], cleared: [] } }]);
    });
  });

  describe('validation', () => {
    const target: SettingsTarget = eventSettings(eventC);

    it.each<[string, Record<string, unknown>, string]>([
      ['a wrong type', { _feeAbs: '12' }, '_feeAbs must be integer'],
      ['a negative amount', { _totalMin: -1 }, '_totalMin must be >= 0'],
      ['a float fee percentage', { _feePercent: 2.5 }, '_feePercent must be string'],
      ['a percentage with too many places', { _feePercent: '2.55555' }, '_feePercent must match pattern'],
      ['a bad country code', { _restrictedCountries: ['Germany'] }, '_restrictedCountries.0 must match pattern'],
      ['a bad date', { _availabilityStart: 'tomorrow' }, '_availabilityStart must match format "date-time"'],
      ['an unknown key', { _feeAbs: 5, colour: 'red' }, 'colour is not a known setting'],
      ['min above max', { _totalMin: 500, _totalMax: 100 }, '_totalMin (500) must not exceed _totalMax (100)'],
      ['a window that ends before it starts', { _availabilityStart: '2026-02-01T00:00:00Z', _availabilityEnd: '2026-01-01T00:00:00Z' }, 'must lie before _availabilityEnd'],
    ])('refuses %s with SETTINGS_INVALID naming the field, writing nothing', async (_label, patch, detail) => {
      const before = { rows: await rows('payment.manual'), log: await logCount() };
      const err = await refusal(store.set(target, 'payment.manual', patch));
      expect(err.code).toBe('SETTINGS_INVALID');
      expect(err.message).toContain('Settings for payment.manual are invalid');
      expect(err.message).toContain(detail);
      expect({ rows: await rows('payment.manual'), log: await logCount() }).toEqual(before);
    });

    it('refuses a namespace nobody declared', async () => {
      expect((await refusal(store.set(target, 'payment.nope', { _enabled: true }))).code).toBe('SETTINGS_INVALID');
    });

    it('enforces required settings only while the provider is enabled (soft-required)', async () => {
      const ev = eventSettings({ id: randomUUID(), organizerId: otherOrg });
      await store.set(ev, 'payment.manual', { publicName: 'Pay at the door' }); // disabled: half-configured is fine
      const err = await refusal(store.set(ev, 'payment.manual', { _enabled: true }));
      expect(err.message).toContain('pendingInstructions is required');
      expect(await store.resolve(ev, 'payment.manual')).toMatchObject({ _enabled: false });
      await store.set(ev, 'payment.manual', { _enabled: true, pendingInstructions: 'Cash at the box office' });
      expect(await store.resolve(ev, 'payment.manual')).toMatchObject({ _enabled: true, publicName: 'Pay at the door' });
    });

    it('counts inherited values towards required ones', async () => {
      const organizer = randomUUID();
      await store.set(organizerSettings(organizer), 'payment.manual', { publicName: 'Invoice', pendingInstructions: 'Pay within 14 days' });
      await store.set(eventSettings({ id: randomUUID(), organizerId: organizer }), 'payment.manual', { _enabled: true });
    });

    it('serialises concurrent writers, so two individually valid writes cannot combine into an invalid state', async () => {
      const ev = eventSettings({ id: randomUUID(), organizerId: org });
      const results = await Promise.allSettled([
        store.set(ev, 'payment.manual', { _totalMin: 500 }),
        store.set(ev, 'payment.manual', { _totalMax: 100 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toMatchObject({ code: 'SETTINGS_INVALID' });
    });
  });

  describe('levels below a write', () => {
    it('refuses an organizer change that would make one of its events invalid, naming the event', async () => {
      const event = await createEvent(db.dataSource);
      await store.set(eventSettings(event), 'payment.manual', { _totalMax: 500 });
      const before = await rows('payment.manual');
      const err = await refusal(store.set(organizerSettings(event.organizerId), 'payment.manual', { _totalMin: 600 }));
      expect(err.message).toContain(`event ${event.id}: _totalMin (600) must not exceed _totalMax (500)`);
      expect(await rows('payment.manual')).toEqual(before);
      await store.set(organizerSettings(event.organizerId), 'payment.manual', { _totalMin: 400 });
    });

    it('refuses removing, above, a required value an enabled event relies on', async () => {
      const event = await createEvent(db.dataSource);
      const organizer = organizerSettings(event.organizerId);
      await store.set(organizer, 'payment.manual', { publicName: 'Invoice', pendingInstructions: 'Pay within 14 days' });
      await store.set(eventSettings(event), 'payment.manual', { _enabled: true });
      const err = await refusal(store.set(organizer, 'payment.manual', { pendingInstructions: null }));
      expect(err.message).toContain(`event ${event.id}: pendingInstructions is required`);
      expect(await store.resolve(eventSettings(event), 'payment.manual')).toMatchObject({ pendingInstructions: 'Pay within 14 days' });
    });

    it('checks organizers and events below a global change, where the global value would apply', async () => {
      const shadowed = await createEvent(db.dataSource);
      await store.set(organizerSettings(shadowed.organizerId), 'payment.free', { _totalMin: 0 });
      await store.set(eventSettings(shadowed), 'payment.free', { _totalMax: 500 });
      const exposed = await createEvent(db.dataSource);
      await store.set(eventSettings(exposed), 'payment.free', { _totalMax: 500 });
      const err = await refusal(store.set(globalSettings, 'payment.free', { _totalMin: 600 }));
      expect(err.message).toContain(`event ${exposed.id}: _totalMin (600)`);
      expect(err.message).not.toContain(shadowed.id);
      expect((await rows('payment.free')).filter((r) => r.scope === 'global')).toEqual([]);
    });

    it('does not let a level that was invalid already block unrelated changes above it', async () => {
      const event = await createEvent(db.dataSource);
      // e.g. left by an older plugin version whose schema allowed it
      await db.dataSource.query(
        `INSERT INTO setting (scope, scope_id, namespace, key, value) VALUES ('event', $1, 'payment.manual', '_feeAbs', '"12"'::jsonb)`, [event.id]);
      await store.set(organizerSettings(event.organizerId), 'payment.manual', { _feePercent: '1' });
      expect(await store.resolve(organizerSettings(event.organizerId), 'payment.manual')).toMatchObject({ _feePercent: '1' });
    });
  });

  describe('secrets', () => {
    const ev = eventSettings(eventA);

    beforeAll(async () => {
      await store.set(ev, 'payment.gateway', { apiKey: plaintext, mode: 'live' });
    });

    it('stores them encrypted: the raw row holds a versioned envelope, not the plaintext', async () => {
      const [row] = (await rows('payment.gateway')).filter((r) => r.key === 'apiKey');
      expect(row).toMatchObject({ scope: 'event', scope_id: eventA.id, encrypted: true, value: { v: 1, alg: 'A256GCM' } });
      const raw = await db.dataSource.query(`SELECT value::text AS text FROM setting WHERE namespace = 'payment.gateway' AND key = 'apiKey'`);
      expect(raw[0].text).not.toContain('Hc0ffeeDeadBeef');
      expect((await rows('payment.gateway')).find((r) => r.key === 'mode')).toMatchObject({ encrypted: false, value: 'live' });
    });

    it('never shows them in the display view, only whether one is set', async () => {
      const display = await store.getForDisplay(ev, 'payment.gateway');
      expect(display.values).toMatchObject({ apiKey: { set: true }, mode: 'live' });
      expect(JSON.stringify(display)).not.toContain('Hc0ffeeDeadBeef');
      expect((await store.getForDisplay(eventSettings(eventB), 'payment.gateway')).values).toMatchObject({ apiKey: { set: false }, mode: 'test' });
    });

    it('decrypts them for the provider context', async () => {
      expect(await store.resolve(ev, 'payment.gateway')).toMatchObject({ apiKey: plaintext, mode: 'live' });
    });

    it('keeps the stored secret when the form sends it empty (write-only field)', async () => {
      await store.set(ev, 'payment.gateway', { apiKey: '', mode: 'test' });
      expect(await store.resolve(ev, 'payment.gateway')).toMatchObject({ apiKey: plaintext, mode: 'test' });
    });

    it('validates a secret before encrypting it, naming the field but not the value', async () => {
      const err = await refusal(store.set(ev, 'payment.gateway', { apiKey: 'sk_wrong_prefix' }));
      expect(err.message).toContain('apiKey must match pattern');
      expect(err.message).not.toContain('sk_wrong_prefix');
      expect(await store.resolve(ev, 'payment.gateway')).toMatchObject({ apiKey: plaintext });
    });

    it('never writes secret values into the audit log', async () => {
      const logged = await db.dataSource.query(`SELECT data::text AS text FROM log_entry WHERE object_id = 'payment.gateway'`);
      expect(logged.length).toBeGreaterThan(0);
      for (const entry of logged) expect(entry.text).not.toContain('Hc0ffee');
    });

    it('refuses to write a secret without a configured key (SETTINGS_SECRET_KEY_MISSING), writing nothing', async () => {
      const keyless = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas });
      const target = eventSettings(eventC);
      const err = await refusal(keyless.set(target, 'payment.gateway', { apiKey: plaintext, mode: 'live' }));
      expect(err.code).toBe('SETTINGS_SECRET_KEY_MISSING');
      expect((await rows('payment.gateway')).filter((r) => r.scope_id === eventC.id)).toEqual([]);
      // Non-secret settings still work without a key.
      await keyless.set(target, 'payment.gateway', { mode: 'live' });
      expect((await keyless.getForDisplay(target, 'payment.gateway')).values).toMatchObject({ mode: 'live', apiKey: { set: false } });
    });

    it('refuses to read with another key (SETTINGS_DECRYPT_FAILED) but still displays', async () => {
      const rotated = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
      const err = await refusal(rotated.resolve(ev, 'payment.gateway'));
      expect(err.code).toBe('SETTINGS_DECRYPT_FAILED');
      expect(err.message).toContain('payment.gateway.apiKey');
      expect((await rotated.getForDisplay(ev, 'payment.gateway')).values).toMatchObject({ apiKey: { set: true } });
    });

    it('detects a tampered row', async () => {
      const eventId = randomUUID();
      const ev2 = eventSettings({ id: eventId, organizerId: org });
      await store.set(ev2, 'payment.gateway', { apiKey: 'key_other' });
      // Change the first base64 character of the ciphertext, as someone editing the row would.
      await db.dataSource.query(
        `UPDATE setting SET value = jsonb_set(value, '{ct}', to_jsonb(overlay(value->>'ct' placing
           (CASE WHEN left(value->>'ct', 1) = 'A' THEN 'B' ELSE 'A' END) from 1 for 1)))
         WHERE scope_id = $1 AND key = 'apiKey'`,
        [eventId],
      );
      expect((await refusal(store.resolve(ev2, 'payment.gateway'))).code).toBe('SETTINGS_DECRYPT_FAILED');
    });

    it('refuses a ciphertext copied into another event\'s row', async () => {
      await db.dataSource.query(
        `INSERT INTO setting (scope, scope_id, namespace, key, value, encrypted)
         SELECT scope, $2, namespace, key, value, encrypted FROM setting WHERE scope_id = $1 AND namespace = 'payment.gateway' AND key = 'apiKey'`,
        [eventA.id, eventB.id],
      );
      expect((await refusal(store.resolve(eventSettings(eventB), 'payment.gateway'))).code).toBe('SETTINGS_DECRYPT_FAILED');
    });

    it('null clears a stored secret', async () => {
      const ev3 = eventSettings({ id: randomUUID(), organizerId: org });
      await store.set(ev3, 'payment.gateway', { apiKey: 'key_tmp' });
      await store.set(ev3, 'payment.gateway', { apiKey: null });
      expect((await store.getForDisplay(ev3, 'payment.gateway')).values).toMatchObject({ apiKey: { set: false } });
    });
  });
});
