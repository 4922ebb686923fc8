import {
  BasePaymentProvider, FreeProvider, KassaError, ManualProvider, ProviderRegistry, isKassaError, type PaymentOutcome,
} from '../../src/host';

class TestProvider extends BasePaymentProvider {
  constructor(readonly identifier: string, readonly verboseName: string, override readonly priority = 100) {
    super();
  }
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'confirmed' });
  }
}

function caught(fn: () => unknown): KassaError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KassaError) return err;
    throw err;
  }
  throw new Error('expected a KassaError');
}

describe('ProviderRegistry', () => {
  const registry = new ProviderRegistry([
    new TestProvider('zeta', 'Zeta'), new TestProvider('alpha', 'Alpha'), new TestProvider('top', 'Top', 500), new ManualProvider(), new FreeProvider(),
  ]);

  it('looks providers up by identifier', () => {
    expect(registry.get('manual')).toBeInstanceOf(ManualProvider);
    expect(registry.has('free')).toBe(true);
    expect(registry.has('stripe')).toBe(false);
  });

  it('refuses an unknown identifier with PAYMENT_PROVIDER_UNKNOWN naming it', () => {
    const err = caught(() => registry.get('stripe'));
    expect(err.code).toBe('PAYMENT_PROVIDER_UNKNOWN');
    expect(err.message).toBe('Unknown payment provider stripe');
  });

  it('lists by priority (higher first), then by verbose name', () => {
    expect(registry.list().map((p) => p.identifier)).toEqual(['top', 'alpha', 'free', 'manual', 'zeta']);
  });

  it('refuses the same identifier twice', () => {
    const err = caught(() => new ProviderRegistry([new TestProvider('dup', 'A'), new TestProvider('dup', 'B')]));
    expect(err.code).toBe('PLUGIN_DUPLICATE');
    expect(err.message).toContain('provider dup');
  });

  it.each(['Stripe', '1pay', '', 'has space', 'x'.repeat(65)])('refuses the malformed identifier %j', (id) => {
    expect(isKassaError(caught(() => new ProviderRegistry([new TestProvider(id, 'X')])), 'PLUGIN_INVALID')).toBe(true);
  });

  it('has no shared state between instances', () => {
    expect(new ProviderRegistry().has('manual')).toBe(false);
  });
});
