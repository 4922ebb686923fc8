import {
  BasePaymentProvider, FreeProvider, KassaError, ManualProvider, coreVersion, definePlugin, loadPlugins, type PaymentOutcome, type PluginDefinition,
} from '../../src/host';
import corePackage from '../../package.json';

class CardProvider extends BasePaymentProvider<{ apiKey: string }> {
  readonly identifier = 'card';
  readonly verboseName = 'Card';
  override readonly settingsSchema = {
    type: 'object', properties: { apiKey: { type: 'string', pattern: '^key_', 'x-secret': true } }, required: ['apiKey'], additionalProperties: false,
  };
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'confirmed' });
  }
}

class SchemaProvider extends BasePaymentProvider {
  constructor(readonly identifier: string, override readonly settingsSchema: Record<string, unknown>) { super(); }
  readonly verboseName = 'Schema';
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'confirmed' });
  }
}

const Migration1764000000000 = { name: 'Migration1764000000000', async up(): Promise<void> {}, async down(): Promise<void> {} };
const handler = (): void => undefined;

const base: PluginDefinition = { name: 'cards', version: '1.2.3', coreRange: '^0.1.0' };
const plugin = (extra: Partial<Record<keyof PluginDefinition, unknown>> = {}) => definePlugin({ ...base, ...extra } as PluginDefinition);

function refusal(plugins: unknown[], opts: Parameters<typeof loadPlugins>[1] = {}): KassaError {
  try {
    loadPlugins(plugins, opts);
  } catch (err) {
    if (err instanceof KassaError) return err;
    throw err;
  }
  throw new Error('expected loadPlugins to refuse');
}

describe('loadPlugins', () => {
  it('loads the built-in providers and a plugin\'s contributions', () => {
    const loaded = loadPlugins([plugin({
      providers: [CardProvider, () => new SchemaProvider('other', { type: 'object', properties: {}, additionalProperties: false })],
      migrations: [Migration1764000000000],
      settingsSchema: { type: 'object', properties: { webhookPath: { type: 'string' } }, additionalProperties: false },
      routes: [{ method: 'POST', path: '/webhook', kind: 'webhook', handler }],
      jobs: [{ name: 'poll', processor: handler, repeat: { everyMs: 60_000 } }],
      views: '/opt/kassa/plugins/cards/views',
    })]);
    expect(loaded.plugins.map((p) => p.name)).toEqual(['builtin', 'cards']);
    expect(loaded.providers.list().map((p) => p.identifier).sort()).toEqual(['card', 'free', 'manual', 'other']);
    expect(loaded.providers.get('manual')).toBeInstanceOf(ManualProvider);
    expect(loaded.providers.get('free')).toBeInstanceOf(FreeProvider);
    expect(loaded.settingsSchemas.names()).toEqual(['payment.card', 'payment.free', 'payment.manual', 'payment.other', 'plugin.cards']);
    expect([...loaded.settingsSchemas.get('payment.card').secretKeys]).toEqual(['apiKey']);
    // Plain migrations become classes of the same name: TypeORM records them by name, so nothing runs twice.
    expect(loaded.migrations.map((m) => [m.name, new m().name])).toEqual([['Migration1764000000000', 'Migration1764000000000']]);
    expect(loaded.routes).toEqual([{ plugin: 'cards', route: { method: 'POST', path: '/webhook', kind: 'webhook', handler }, owner: loaded.plugins[1] }]);
    expect(loaded.jobs.map((j) => `${j.plugin}:${j.job.name}`)).toEqual(['cards:poll']);
    expect(loaded.views).toEqual([{ plugin: 'cards', dir: '/opt/kassa/plugins/cards/views' }]);
  });

  it('creates fresh provider instances per load, handing them the environment', () => {
    const seen: unknown[] = [];
    const clock = { now: () => new Date(0) };
    const p = plugin({ providers: [(env: unknown) => { seen.push(env); return new CardProvider(); }] });
    const a = loadPlugins([p], { clock });
    const b = loadPlugins([p], { clock });
    expect(a.providers.get('card')).not.toBe(b.providers.get('card'));
    expect(seen).toEqual([{ clock, config: undefined }, { clock, config: undefined }]);
  });

  it('accepts control routes for the instance\'s operators alone', () => {
    const route = { method: 'GET', path: '/operator', kind: 'control', handler, permission: 'operator' } as const;
    expect(loadPlugins([plugin({ routes: [route] })]).routes.map((r) => r.route.permission)).toEqual(['operator']);
  });

  it('can leave the built-ins out', () => {
    expect(loadPlugins([], { builtins: false }).providers.list()).toEqual([]);
  });

  it('keeps the core version in step with package.json', () => {
    expect(coreVersion).toBe(corePackage.version);
  });

  describe('refuses at boot', () => {
    it.each<[string, unknown, RegExp]>([
      ['a value that is not a definePlugin() value', { ...base }, /Plugin #1 is invalid: not a definePlugin\(\) value/],
      ['an unknown field (typo)', plugin({ provider: [CardProvider] } as never), /Plugin cards is invalid: unknown field provider/],
      ['a bad name', plugin({ name: 'My Plugin' }), /Plugin My Plugin is invalid: name must match/],
      ['a version that is not semver', plugin({ version: '1.0' }), /version 1\.0 is not a semver version/],
      ['a core range that is not a range', plugin({ coreRange: 'latest-ish' }), /coreRange latest-ish is not a semver range/],
      ['providers that is not an array', plugin({ providers: CardProvider }), /providers must be an array/],
      ['a provider that is not a class', plugin({ providers: ['card'] }), /providers\[0\] must be a class or function/],
      ['a factory returning something else', plugin({ providers: [() => ({ identifier: 'x' })] }), /providers\[0\] is not a BasePaymentProvider/],
      ['a provider whose constructor throws', plugin({ providers: [() => { throw new Error('no key'); }] }), /providers\[0\] could not be created: no key/],
      ['a malformed provider identifier', plugin({ providers: [() => new SchemaProvider('Card!', { type: 'object', properties: {} })] }), /providers\[0\]\.identifier must match/],
      ['a provider settings key starting with "_"', plugin({ providers: [() => new SchemaProvider('x', { type: 'object', properties: { _enabled: { type: 'string' } } })] }), /"_enabled" starts with "_"/],
      ['a provider settings schema that is not flat', plugin({ providers: [() => new SchemaProvider('x', { type: 'object', properties: {}, anyOf: [] })] }), /top-level keyword "anyOf"/],
      ['a provider settings schema that does not compile', plugin({ providers: [() => new SchemaProvider('x', { type: 'object', properties: { a: { type: 'strin' } } })] }), /providers\[0\] \(x\)\.settingsSchema: settings schema does not compile/],
      ['required naming no property', plugin({ providers: [() => new SchemaProvider('x', { type: 'object', properties: {}, required: ['a'] })] }), /required must list properties/],
      ['a nested secret', plugin({ providers: [() => new SchemaProvider('x', { type: 'object', properties: { o: { type: 'object', properties: { s: { type: 'string', 'x-secret': true } } } } })] }), /only top-level properties can be secret/],
      ['a plugin settings schema allowing unknown keys', plugin({ settingsSchema: { type: 'object', properties: {} } }), /settingsSchema: a settings schema must set additionalProperties: false/],
      ['a route with a bad method', plugin({ routes: [{ method: 'FETCH', path: '/x', kind: 'shop', handler }] }), /routes\[0\]\.method must be one of/],
      ['a route path without a leading slash', plugin({ routes: [{ method: 'GET', path: 'x', kind: 'shop', handler }] }), /routes\[0\]\.path must start with "\/"/],
      ['a route of an unknown kind', plugin({ routes: [{ method: 'GET', path: '/x', kind: 'admin', handler }] }), /routes\[0\]\.kind must be one of/],
      ['a route without a handler', plugin({ routes: [{ method: 'GET', path: '/x', kind: 'shop' }] }), /routes\[0\]\.handler must be a function/],
      ['a oneTime route that is not a control route', plugin({ routes: [{ method: 'POST', path: '/x', kind: 'shop', handler, oneTime: true }] }), /routes\[0\]\.oneTime may only be true, \{ paymentParam \} or \{ refundParam \} naming a parameter of its path, on a control route/],
      ['a oneTime flag that is not true', plugin({ routes: [{ method: 'POST', path: '/x', kind: 'control', handler, oneTime: 'yes' }] }), /routes\[0\]\.oneTime may only be true/],
      ['a oneTime paymentParam not in the path', plugin({ routes: [{ method: 'POST', path: '/p/:paymentId', kind: 'control', handler, oneTime: { paymentParam: 'id' } }] }), /routes\[0\]\.oneTime may only be true/],
      ['a oneTime refundParam not in the path', plugin({ routes: [{ method: 'POST', path: '/r/:refundId', kind: 'control', handler, oneTime: { refundParam: 'id' } }] }), /routes\[0\]\.oneTime may only be true/],
      ['a oneTime naming both a payment and a refund', plugin({ routes: [{ method: 'POST', path: '/p/:paymentId/:refundId', kind: 'control', handler, oneTime: { paymentParam: 'paymentId', refundParam: 'refundId' } as never }] }), /routes\[0\]\.oneTime may only be true/],
      ['an operator-only route that is not a control route', plugin({ routes: [{ method: 'GET', path: '/x', kind: 'shop', handler, permission: 'operator' }] }), /routes\[0\]\.permission may only be set on a control route, to 'member', 'operator' or one of/],
      ['a permission that does not exist', plugin({ routes: [{ method: 'GET', path: '/x', kind: 'control', handler, permission: 'superuser' }] }), /routes\[0\]\.permission may only be set on a control route/],
      ['a job with a bad name', plugin({ jobs: [{ name: 'Poll Now', processor: handler }] }), /jobs\[0\]\.name must match/],
      ['a job without a processor', plugin({ jobs: [{ name: 'poll' }] }), /jobs\[0\]\.processor must be a function/],
      ['a job with a bad repeat', plugin({ jobs: [{ name: 'poll', processor: handler, repeat: { everyMs: 0 } }] }), /jobs\[0\]\.repeat must be/],
      ['a job with malformed topics', plugin({ jobs: [{ name: 'on-refund', processor: handler, topics: ['Refund External'] }] }), /jobs\[0\]\.topics must be/],
      ['a job with bad attempts', plugin({ jobs: [{ name: 'poll', processor: handler, attempts: 0 }] }), /jobs\[0\]\.attempts must be a positive integer/],
      ['a relative views folder', plugin({ views: 'views' }), /views must be an absolute directory path/],
      ['a migration class instead of { name, up, down }', plugin({ migrations: [class Acme1764000000000 {}] }), /migrations\[0\] must be \{ name, up\(db\), down\(db\) \}/],
      ['a migration name without its timestamp', plugin({ migrations: [{ name: 'AcmeInit', up: handler, down: handler }] }), /migrations\[0\]\.name must match/],
      ['an error code in lower case', plugin({ errors: { acme_down: { status: 503, message: 'down' } } }), /errors\.acme_down: codes must match/],
      ['an error code with a success status', plugin({ errors: { ACME_DOWN: { status: 200, message: 'down' } } }), /errors\.ACME_DOWN\.status must be an HTTP error status/],
      ['an error code without a message', plugin({ errors: { ACME_DOWN: { status: 503 } } }), /errors\.ACME_DOWN\.message must be a non-empty string/],
      ['a setup that is not a function', plugin({ setup: {} }), /setup must be a function/],
    ])('%s (PLUGIN_INVALID)', (_label, candidate, message) => {
      const err = refusal([candidate]);
      expect(err.code).toBe('PLUGIN_INVALID');
      expect(err.message).toMatch(message);
    });

    it.each<[string, unknown[], RegExp]>([
      ['the same plugin twice', [plugin(), plugin()], /plugin cards is registered twice/],
      ['a provider identifier used by two plugins', [plugin({ providers: [CardProvider] }), plugin({ name: 'cards2', providers: [CardProvider] })], /provider card \(plugins cards and cards2\)/],
      ['a plugin shadowing a built-in provider', [plugin({ providers: [ManualProvider] })], /provider manual \(plugins builtin and cards\)/],
      ['a plugin named like the built-ins', [plugin({ name: 'builtin' })], /plugin builtin is registered twice/],
      ['the same migration in two plugins', [plugin({ migrations: [Migration1764000000000] }), plugin({ name: 'b', migrations: [Migration1764000000000] })], /migration Migration1764000000000 \(plugins cards and b\)/],
      ['the same route twice', [plugin({ routes: [{ method: 'GET', path: '/x', kind: 'shop', handler }, { method: 'GET', path: '/x', kind: 'api', handler }] })], /route GET \/x in plugin cards/],
      ['the same job twice', [plugin({ jobs: [{ name: 'poll', processor: handler }, { name: 'poll', processor: handler }] })], /job poll in plugin cards/],
    ])('%s (PLUGIN_DUPLICATE)', (_label, plugins, message) => {
      const err = refusal(plugins);
      expect(err.code).toBe('PLUGIN_DUPLICATE');
      expect(err.message).toMatch(message);
    });

    it.each<[string, unknown[], RegExp]>([
      ['a plugin code that is core\'s', [plugin({ errors: { NOT_FOUND: { status: 404, message: 'mine' } } })], /Plugin cards declares error code NOT_FOUND, which core already declares/],
      ['a code two plugins declare', [plugin({ errors: { CARDS_DOWN: { status: 503, message: 'a' } } }), plugin({ name: 'b', errors: { CARDS_DOWN: { status: 503, message: 'b' } } })], /Plugin b declares error code CARDS_DOWN, which plugin cards already declares/],
    ])('%s (PLUGIN_ERROR_CODE_TAKEN)', (_label, plugins, message) => {
      const err = refusal(plugins);
      expect(err.code).toBe('PLUGIN_ERROR_CODE_TAKEN');
      expect(err.message).toMatch(message);
    });

    it.each([
      ['^1.0.0', '0.1.0'],
      ['>=0.2.0', '0.1.0'],
      ['~0.1.0', '0.2.0'],
    ])('a core range %s that excludes core %s (PLUGIN_CORE_VERSION_MISMATCH)', (coreRange, version) => {
      const err = refusal([plugin({ coreRange })], { coreVersion: version, builtins: false });
      expect(err.code).toBe('PLUGIN_CORE_VERSION_MISMATCH');
      expect(err.message).toBe(`Plugin cards needs core ${coreRange}, this is core ${version}`);
    });

    it('accepts a pre-release core inside the range', () => {
      expect(() => loadPlugins([plugin({ coreRange: '^0.2.0' })], { coreVersion: '0.2.1-beta.1', builtins: false })).not.toThrow();
    });
  });
});
