import { Type } from '@sinclair/typebox';
import { KassaError, SettingsSchemas } from '../../src/host';

function refusal(fn: () => unknown): KassaError {
  try { fn(); } catch (err) { if (err instanceof KassaError) return err; throw err; }
  throw new Error('expected a refusal');
}

describe('SettingsSchemas', () => {
  it('accepts a TypeBox object schema and collects its secrets and defaults', () => {
    const schemas = new SettingsSchemas();
    const ns = schemas.register({
      name: 'plugin.demo',
      schema: Type.Object({
        token: Type.String({ 'x-secret': true }),
        retries: Type.Integer({ minimum: 0, default: 3 }),
      }, { additionalProperties: false }),
    });
    expect([...ns.secretKeys]).toEqual(['token']);
    expect(ns.defaults).toEqual({ retries: 3 });
    expect(ns.validate({ token: 't', retries: 1 })).toBeNull();
    expect(ns.validate({ retries: -1 })).toBe('token is required; retries must be >= 0');
  });

  it('collects instance-only keys and units', () => {
    const ns = new SettingsSchemas().register({
      name: 'plugin.gateway',
      schema: Type.Object({
        apiKey: Type.String({ 'x-secret': true, 'x-unit': 'credentials' }),
        accountId: Type.String({ 'x-unit': 'credentials' }),
        gatewayUrl: Type.String({ format: 'uri', 'x-instance-only': true }),
        helpUrl: Type.String({ format: 'uri', 'x-instance-only': false }),
      }, { additionalProperties: false }),
    });
    expect([...ns.instanceOnlyKeys]).toEqual(['gatewayUrl']);
    expect([...ns.units]).toEqual([['apiKey', 'credentials'], ['accountId', 'credentials']]);
  });

  // The class, not the instance: no plugin can let organizers choose a destination by forgetting to say.
  it.each([
    ['a uri format', { endpoint2: { type: 'string', format: 'uri' } }],
    ['a pattern for URLs', { target: { type: 'string', pattern: '^https?://' } }],
    ['a name ending in Url', { scriptUrl: { type: 'string' } }],
    ['a name ending in Host', { smtpHost: { type: 'string' } }],
    ['an apiBase', { apiBase: { type: 'string' } }],
    ['a list of URLs by format', { callbacks: { type: 'array', items: { type: 'string', format: 'uri' } } }],
    ['a list of URLs by pattern', { targets: { type: 'array', items: { type: 'string', pattern: '^https://' } } }],
    ['a list of hostnames by format', { mirrors: { type: 'array', items: { type: 'string', format: 'hostname' } } }],
    ['a plural name (domains, as wallet domains are)', { shopDomains: { type: 'array', items: { type: 'string' } } }],
    ['an origin', { allowedOrigin: { type: 'string' } }],
  ])('refuses a property that looks like a destination without an explicit x-instance-only (%s)', (_label, properties) => {
    const err = refusal(() => new SettingsSchemas().register({ name: 'plugin.dest', schema: { type: 'object', properties, additionalProperties: false } }));
    expect(err.code).toBe('PLUGIN_INVALID');
    expect(err.message).toMatch(/looks like a URL or host: say whether organizers may set it with "x-instance-only"/);
  });

  it('refuses x-instance-only or x-unit on a nested value', () => {
    for (const mark of [{ 'x-instance-only': true }, { 'x-unit': 'u' }]) {
      const schema = { type: 'object', properties: { o: { type: 'object', properties: { s: { type: 'string', ...mark } } } }, additionalProperties: false };
      expect(refusal(() => new SettingsSchemas().register({ name: 'plugin.nested', schema })).message).toMatch(/only top-level properties can/);
    }
  });

  it('enforces required keys only while the switch key is true (soft-required)', () => {
    const ns = new SettingsSchemas().register({
      name: 'payment.demo', requiredWhen: '_enabled',
      schema: { type: 'object', properties: { _enabled: { type: 'boolean' }, key: { type: 'string' } }, required: ['key'], additionalProperties: false },
    });
    expect(ns.validate({ _enabled: false })).toBeNull();
    expect(ns.validate({})).toBeNull();
    expect(ns.validate({ _enabled: true })).toBe('key is required');
    // types are checked either way
    expect(ns.validate({ _enabled: false, key: 1 })).toBe('key must be string');
  });

  it('runs the cross-field check after the schema', () => {
    const ns = new SettingsSchemas().register({
      name: 'plugin.range', check: (v) => (Number(v.min) > Number(v.max) ? 'min must not exceed max' : null),
      schema: { type: 'object', properties: { min: { type: 'integer' }, max: { type: 'integer' } }, additionalProperties: false },
    });
    expect(ns.validate({ min: 2, max: 1 })).toBe('min must not exceed max');
    expect(ns.validate({ min: 'x' })).toBe('min must be integer');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['not an object schema', { type: 'string' }, /must be an object schema with properties/],
    ['open to unknown keys', { type: 'object', properties: {} }, /must set additionalProperties: false/],
    ['a nested secret', { type: 'object', properties: { o: { type: 'object', properties: { s: { type: 'string', 'x-secret': true } } } }, additionalProperties: false }, /only top-level properties can be secret/],
    ['an unknown keyword (strict ajv)', { type: 'object', properties: { a: { type: 'string', minLenght: 1 } }, additionalProperties: false }, /does not compile: strict mode: unknown keyword: "minLenght"/],
  ])('refuses a schema that is %s (PLUGIN_INVALID)', (_label, schema, message) => {
    const err = refusal(() => new SettingsSchemas().register({ name: 'plugin.bad', schema }));
    expect(err.code).toBe('PLUGIN_INVALID');
    expect(err.message).toMatch(message);
  });

  it('refuses a namespace registered twice, and names an unknown one', () => {
    const schemas = new SettingsSchemas();
    const def = { name: 'plugin.x', schema: { type: 'object', properties: {}, additionalProperties: false } };
    schemas.register(def);
    expect(refusal(() => schemas.register(def)).code).toBe('PLUGIN_DUPLICATE');
    const unknown = refusal(() => schemas.get('plugin.y'));
    expect(unknown.code).toBe('SETTINGS_INVALID');
    expect(unknown.message).toContain('plugin.y');
  });
});
