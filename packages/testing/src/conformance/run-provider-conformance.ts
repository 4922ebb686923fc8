import {
  BasePaymentProvider, SettingsSchemas, checkProviderSettingsSchema, definePlugin, loadPlugins, providerIdentifierPattern,
  providerSettingsNamespace, type AvailabilityQuery, type JsonSchema, type PaymentOutcome, type ProviderContext,
} from '@kassa/core/host';
import { jsonProblems, paymentOutcomeProblems, viewModelProblems } from './conformance-checks';
import { sampleContext, sampleEvent, sampleOrder, samplePayment } from './conformance-fixtures';

type Lazy<T> = T | (() => T);
type Kind = PaymentOutcome['kind'];

/** One executePayment scenario the author vouches for. */
export interface ConformancePaymentPath {
  /** The session checkoutPrepare/paymentPrepare would have stored; default: what checkoutPrepare returns for `input`. */
  readonly session?: Record<string, unknown>;
  /** Checkout input handed to checkoutPrepare; default {}. */
  readonly input?: Record<string, unknown>;
  /** Payment amount in minor units; default `options.amount`. */
  readonly amount?: number;
  /** The outcome kind(s) the provider must report. */
  readonly expect: Kind | readonly Kind[];
}

export interface ProviderConformanceOptions {
  /** The provider's own settings in the test context (after resolution, secrets in clear). Lazy so beforeAll values work. */
  readonly settings?: Lazy<Record<string, unknown>>;
  /** Framework settings (`_enabled`, `_feeAbs`…) in the test context; default `{ _enabled: true }`. */
  readonly common?: Lazy<Record<string, unknown>>;
  /** Currency of the sample event; default EUR. */
  readonly currency?: string;
  /** Default payment amount in minor units; default 1000. */
  readonly amount?: number;
  /** The happy path: executePayment must resolve to a valid outcome of this kind. */
  readonly happyPath: ConformancePaymentPath;
  /** More scenarios (a decline, a redirect…), each checked like the happy path. */
  readonly paths?: Readonly<Record<string, ConformancePaymentPath>>;
  /** Payment info as the provider stores it, and the top-level keys that are personal data and must be shredded. */
  readonly shred?: { readonly info: Record<string, unknown>; readonly personalKeys: readonly string[] };
  /** Settings the schema must accept while the provider is enabled (checks the schema against real data). */
  readonly validSettings?: Record<string, unknown>;
  /** Settings the schema must refuse (e.g. a live key in the wrong field). */
  readonly invalidSettings?: readonly Record<string, unknown>[];
  /** Per-test timeout in ms for the calls that may talk to a gateway (default jest's). */
  readonly timeout?: number;
}

/**
 * The provider conformance suite: a jest `describe` block that a plugin author calls in a test file
 * to check their provider against the contract core relies on. It builds the provider with
 * `makeProvider` (a fresh instance per check) and calls it outside any database.
 *
 * @example
 * runProviderConformance(() => new StripeProvider(env), {
 *   settings: { secretKey: 'sk_test_…' },
 *   happyPath: { session: { paymentMethod: 'pm_card_visa' }, expect: ['confirmed', 'requires_action'] },
 *   shred: { info: { id: 'pi_1', billing_details: { name: 'Jane' } }, personalKeys: ['billing_details'] },
 * });
 */
export function runProviderConformance(makeProvider: () => BasePaymentProvider, options: ProviderConformanceOptions): void {
  const currency = options.currency ?? 'EUR';
  const amount = options.amount ?? 1000;
  const resolve = <T>(v: Lazy<T> | undefined, fallback: T): T => (v === undefined ? fallback : typeof v === 'function' ? (v as () => T)() : v);
  const fixture = (payAmount = amount) => {
    const provider = makeProvider();
    const event = sampleEvent(currency);
    const order = sampleOrder(event, payAmount);
    const payment = samplePayment(order, provider.identifier);
    const paid = samplePayment(order, provider.identifier, { state: 'confirmed', paymentDate: new Date() });
    const ctx: ProviderContext = sampleContext(event, resolve(options.settings, {}), resolve(options.common, { _enabled: true }), provider.enabledByDefault);
    const query: AvailabilityQuery = { total: { amount: payAmount, currency }, now: new Date() };
    return { provider, event, order, payment, paid, ctx, query };
  };

  describe(`provider conformance: ${safeId(makeProvider)}`, () => {
    describe('identity', () => {
      it('has a lowercase identifier core can use as a key and settings namespace', () => {
        expect(fixture().provider.identifier).toMatch(providerIdentifierPattern);
      });

      it('has a verbose name and a public name', () => {
        const { provider } = fixture();
        expect(typeof provider.verboseName).toBe('string');
        expect(provider.verboseName.trim()).not.toBe('');
        expect(typeof provider.publicName).toBe('string');
        expect(provider.publicName.trim()).not.toBe('');
      });

      it('has well-typed flags and an integer priority', () => {
        const { provider } = fixture();
        expect(Number.isSafeInteger(provider.priority)).toBe(true);
        for (const flag of ['isImplicit', 'enabledByDefault', 'executePaymentNeedsUser', 'abortPendingAllowed'] as const) {
          expect([flag, typeof provider[flag]]).toEqual([flag, 'boolean']);
        }
      });

      it('is a fresh object each time (no module-level singleton)', () => {
        expect(makeProvider()).not.toBe(makeProvider());
      });

      it('loads through the plugin loader', () => {
        const plugin = definePlugin({ name: 'conformance', version: '0.0.0', coreRange: '*', providers: [() => makeProvider()] });
        const loaded = loadPlugins([plugin], { builtins: false });
        expect(loaded.providers.list().map((p) => p.identifier)).toEqual([fixture().provider.identifier]);
      });
    });

    describe('settings schema', () => {
      // Compiled once per suite: ajv compilation is the slow part.
      let compiled: ReturnType<SettingsSchemas['register']> | undefined;
      const compile = () => (compiled ??= new SettingsSchemas().register(providerSettingsNamespace(fixture().provider)));

      it('is a flat object schema whose keys do not collide with the framework settings', () => {
        expect(checkProviderSettingsSchema(fixture().provider.settingsSchema as JsonSchema)).toBeNull();
      });

      it('compiles with ajv (strict) and refuses unknown keys', () => {
        const ns = compile();
        expect(ns.validate({ _enabled: false, definitelyNotASetting: 1 })).toContain('definitelyNotASetting is not a known setting');
      });

      it('lets a disabled provider be saved without its required settings (soft-required)', () => {
        expect(compile().validate({ _enabled: false })).toBeNull();
      });

      if (options.validSettings) {
        const valid = options.validSettings;
        it('accepts the author\'s valid settings while enabled', () => {
          expect(compile().validate({ ...valid, _enabled: true })).toBeNull();
        });
      }
      (options.invalidSettings ?? []).forEach((bad, i) => {
        it(`refuses invalid settings #${i + 1}`, () => {
          expect(compile().validate({ ...options.validSettings, ...bad, _enabled: true })).not.toBeNull();
        });
      });
    });

    describe('capabilities', () => {
      it('supports a full refund wherever it supports a partial one', () => {
        const { provider, paid } = fixture();
        if (provider.paymentPartialRefundSupported(paid)) expect(provider.paymentRefundSupported(paid)).toBe(true);
        expect(typeof provider.paymentRefundSupported(paid)).toBe('boolean');
        expect(typeof provider.paymentPartialRefundSupported(paid)).toBe('boolean');
      });

      it('implements executeRefund when it claims refund support', () => {
        const { provider, paid } = fixture();
        if (provider.paymentRefundSupported(paid)) {
          expect(provider.executeRefund).not.toBe(BasePaymentProvider.prototype.executeRefund);
        }
      });

      it('answers isAllowed with a boolean', () => {
        const { provider, ctx, query } = fixture();
        expect(typeof provider.isAllowed(ctx, query)).toBe('boolean');
      });

      it('declares content-security-policy origins as lists of strings', () => {
        const { provider, ctx } = fixture();
        const csp = provider.contentSecurityPolicy(ctx);
        for (const list of Object.values(csp)) {
          expect(Array.isArray(list) && list.every((o: unknown) => typeof o === 'string')).toBe(true);
        }
      });
    });

    describe('checkout and payment', () => {
      const paths: [string, ConformancePaymentPath][] = [['happy path', options.happyPath], ...Object.entries(options.paths ?? {})];

      it('paymentPrepare (retry or switch method on an existing order) answers like checkoutPrepare', async () => {
        const { provider, ctx, order, payment } = fixture();
        const result = await provider.paymentPrepare(ctx, { order, payment }, options.happyPath.input ?? {});
        expect(typeof result.ok).toBe('boolean');
        expect(jsonProblems(result.ok ? result.session : result.errors, 'paymentPrepare()')).toEqual([]);
      }, options.timeout);

      it('checkoutPrepare answers { ok, session } or { ok: false, errors } and does not throw', async () => {
        const { provider, ctx } = fixture();
        const result = await provider.checkoutPrepare(ctx, options.happyPath.input ?? {});
        if (result.ok) {
          expect(jsonProblems(result.session, 'session')).toEqual([]);
          expect(typeof provider.paymentIsValidSession(ctx, result.session)).toBe('boolean');
        } else {
          expect(Object.values(result.errors).every((m) => typeof m === 'string')).toBe(true);
        }
      }, options.timeout);

      for (const [name, path] of paths) {
        it(`executePayment returns a valid outcome on the ${name} (${[path.expect].flat().join(' or ')})`, async () => {
          const { provider, ctx, order, payment } = fixture(path.amount);
          let session = path.session;
          if (session === undefined) {
            const prepared = await provider.checkoutPrepare(ctx, path.input ?? {});
            if (!prepared.ok) throw new Error(`checkoutPrepare refused the ${name} input: ${JSON.stringify(prepared.errors)}`);
            session = prepared.session;
          }
          const before = JSON.stringify({ order, payment });
          const outcome = await provider.executePayment(ctx, { order, payment, session });
          expect(paymentOutcomeProblems(outcome)).toEqual([]);
          expect([path.expect].flat()).toContain(outcome.kind);
          // Core applies the outcome under its own lock; a provider that edits the rows it was shown
          // would have its changes silently lost (or, worse, saved by accident).
          expect(JSON.stringify({ order, payment })).toBe(before);
        }, options.timeout);
      }
    });

    describe('rendering', () => {
      it('paymentPresaleRender returns a customer-safe string', () => {
        const { provider, paid } = fixture();
        const text = provider.paymentPresaleRender(paid);
        expect(typeof text).toBe('string');
        expect(text.trim()).not.toBe('');
      });

      it('render hooks return a view model or null', () => {
        const { provider, ctx, order, payment } = fixture();
        const call = { order, payment };
        expect([
          ...viewModelProblems(provider.paymentFormRender(ctx, { amount, currency }), 'paymentFormRender'),
          ...viewModelProblems(provider.checkoutConfirmRender(ctx, {}), 'checkoutConfirmRender'),
          ...viewModelProblems(provider.paymentPendingRender(ctx, call), 'paymentPendingRender'),
          ...viewModelProblems(provider.paymentControlRender(ctx, call), 'paymentControlRender'),
        ]).toEqual([]);
      });

      it('paymentPendingMailRender returns plain text or null (core escapes it for HTML)', () => {
        const { provider, ctx, order, payment } = fixture();
        const text = provider.paymentPendingMailRender(ctx, { order, payment });
        expect(text === null || typeof text === 'string').toBe(true);
        // Plain text: markup would show as literal tags once core escapes it.
        if (typeof text === 'string') expect(text).not.toMatch(/<\/?[a-z][^>]*>/i);
      });

      it('apiPaymentDetails is plain JSON and matchingId a string or null', () => {
        const { provider, paid } = fixture();
        expect(jsonProblems(provider.apiPaymentDetails(paid), 'apiPaymentDetails')).toEqual([]);
        const id = provider.matchingId(paid);
        expect(id === null || typeof id === 'string').toBe(true);
      });
    });

    describe('personal data', () => {
      const shred = options.shred ?? { info: { name: 'Jane Buyer', email: 'jane@example.org' }, personalKeys: ['name', 'email'] };

      it(`shredPaymentInfo drops ${shred.personalKeys.join(', ')}`, () => {
        const kept = fixture().provider.shredPaymentInfo(structuredClone(shred.info));
        for (const key of shred.personalKeys) expect(Object.keys(kept)).not.toContain(key);
        // Nor may a personal value survive under another key.
        const keptJson = JSON.stringify(kept);
        for (const key of shred.personalKeys) {
          const value = shred.info[key];
          if (typeof value === 'string' && value.length >= 3) expect(keptJson).not.toContain(value);
        }
        expect(jsonProblems(kept, 'shredPaymentInfo()')).toEqual([]);
      });

      it('shredding twice changes nothing more', () => {
        const { provider } = fixture();
        const once = provider.shredPaymentInfo(structuredClone(shred.info));
        expect(provider.shredPaymentInfo(structuredClone(once))).toEqual(once);
      });
    });
  });
}

/** The identifier for the describe title, without failing the whole file when the constructor throws. */
function safeId(make: () => BasePaymentProvider): string {
  try {
    return make().identifier;
  } catch (err) {
    return `(constructor throws: ${err instanceof Error ? err.message : String(err)})`;
  }
}
