import {
  BasePaymentProvider, Event, FreeProvider, KassaError, ManualProvider, assertAvailable, checkAvailability, systemClock, toCommonSettings,
  type AvailabilityQuery, type PaymentOutcome, type ProviderContext,
} from '../../src/host';
import { calculateProviderFee } from '../../src/provider/provider-fee';

const event = Object.assign(new Event(), { id: 'e1', organizerId: 'o1', currency: 'EUR', timezone: 'Europe/Berlin' });
const now = new Date('2026-06-01T12:00:00Z');

function ctx(common: Record<string, unknown>, enabledByDefault = false): ProviderContext {
  return { event, settings: {}, clock: systemClock, baseUrl: 'http://k', common: toCommonSettings(common, enabledByDefault) };
}
const query = (amount: number, extra: Partial<AvailabilityQuery> = {}): AvailabilityQuery => ({ total: { amount, currency: 'EUR' }, now, ...extra });

class PickyProvider extends BasePaymentProvider {
  readonly identifier = 'picky';
  readonly verboseName = 'Picky';
  override isAllowed(_ctx: ProviderContext, q: AvailabilityQuery): boolean {
    return q.total.amount % 2 === 0;
  }
  executePayment(): Promise<PaymentOutcome> {
    return Promise.resolve({ kind: 'confirmed' });
  }
}

describe('checkAvailability', () => {
  const manual = new ManualProvider();

  it('allows an enabled provider without restrictions', () => {
    expect(checkAvailability(manual, ctx({ _enabled: true }), query(1000))).toEqual({ allowed: true });
  });

  it('refuses a provider that is not enabled (the default for manual)', () => {
    expect(checkAvailability(manual, ctx({}), query(1000))).toMatchObject({ allowed: false, reason: 'disabled' });
  });

  it('applies the availability window as instants (start inclusive, end inclusive)', () => {
    const window = { _enabled: true, _availabilityStart: '2026-06-01T12:00:00Z', _availabilityEnd: '2026-06-02T00:00:00+02:00' };
    expect(checkAvailability(manual, ctx(window), query(1))).toEqual({ allowed: true });
    expect(checkAvailability(manual, ctx(window), query(1, { now: new Date('2026-06-01T11:59:59Z') }))).toMatchObject({ reason: 'not_yet_available' });
    expect(checkAvailability(manual, ctx(window), query(1, { now: new Date('2026-06-01T22:00:00Z') }))).toEqual({ allowed: true });
    expect(checkAvailability(manual, ctx(window), query(1, { now: new Date('2026-06-01T22:00:01Z') }))).toMatchObject({ reason: 'no_longer_available' });
  });

  it('applies the minimum and maximum total in minor units, bounds included', () => {
    const limits = ctx({ _enabled: true, _totalMin: 500, _totalMax: 10_000 });
    expect(checkAvailability(manual, limits, query(500))).toEqual({ allowed: true });
    expect(checkAvailability(manual, limits, query(10_000))).toEqual({ allowed: true });
    expect(checkAvailability(manual, limits, query(499))).toMatchObject({ reason: 'below_minimum', detail: 'total 499 is below the minimum 500' });
    expect(checkAvailability(manual, limits, query(10_001))).toMatchObject({ reason: 'above_maximum' });
  });

  it('restricts by country, refusing when the country is unknown', () => {
    const de = ctx({ _enabled: true, _restrictedCountries: ['DE', 'AT'] });
    expect(checkAvailability(manual, de, query(1, { country: 'at' }))).toEqual({ allowed: true });
    expect(checkAvailability(manual, de, query(1, { country: 'FR' }))).toMatchObject({ reason: 'country_restricted' });
    expect(checkAvailability(manual, de, query(1))).toMatchObject({ reason: 'country_unknown' });
  });

  it('asks the provider last', () => {
    const picky = new PickyProvider();
    expect(checkAvailability(picky, ctx({ _enabled: true }), query(2))).toEqual({ allowed: true });
    expect(checkAvailability(picky, ctx({ _enabled: true }), query(3))).toMatchObject({ reason: 'provider_refused' });
    // framework checks come first: a disabled provider is reported as disabled even if it would refuse
    expect(checkAvailability(picky, ctx({}), query(3))).toMatchObject({ reason: 'disabled' });
  });

  it('offers the free provider only for a zero total, enabled without configuration', () => {
    const free = new FreeProvider();
    expect(checkAvailability(free, ctx({}, true), query(0))).toEqual({ allowed: true });
    expect(checkAvailability(free, ctx({}, true), query(1))).toMatchObject({ reason: 'provider_refused' });
    expect(checkAvailability(free, ctx({ _enabled: false }, true), query(0))).toMatchObject({ reason: 'disabled' });
  });

  it('treats a context without common settings as the provider defaults', () => {
    const bare: ProviderContext = { event, settings: {}, clock: systemClock, baseUrl: 'http://k' };
    expect(checkAvailability(manual, bare, query(1))).toMatchObject({ reason: 'disabled' });
    expect(checkAvailability(new FreeProvider(), bare, query(0))).toEqual({ allowed: true });
  });

  it('refuses a total in another currency than the event\'s', () => {
    expect(() => checkAvailability(manual, ctx({ _enabled: true }), { total: { amount: 1, currency: 'USD' }, now })).toThrow(
      expect.objectContaining({ code: 'MONEY_CURRENCY_MISMATCH' }),
    );
  });

  it('assertAvailable refuses with PAYMENT_PROVIDER_NOT_ALLOWED naming provider and reason', () => {
    let err: unknown;
    try { assertAvailable(manual, ctx({ _enabled: true, _totalMin: 100 }), query(50)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(KassaError);
    expect((err as KassaError).code).toBe('PAYMENT_PROVIDER_NOT_ALLOWED');
    expect((err as KassaError).message).toBe('Payment provider manual is not available for this order: total 50 is below the minimum 100');
  });
});

describe('calculateProviderFee', () => {
  it('uses the framework fee settings of the context', () => {
    const manual = new ManualProvider();
    expect(calculateProviderFee(manual, ctx({ _feeAbs: 30, _feePercent: '0' }), { amount: 1000, currency: 'EUR' })).toEqual({ amount: 30, currency: 'EUR' });
    // forward: 10000 * 2.5 % + 25 = 275
    expect(calculateProviderFee(manual, ctx({ _feeAbs: 25, _feePercent: '2.5', _feeReverseCalc: false }), { amount: 10_000, currency: 'EUR' }).amount).toBe(275);
    // reverse (default): (10000 + 25) / (1 - 0.025) - 10000 = 282.05… → 282
    expect(calculateProviderFee(manual, ctx({ _feeAbs: 25, _feePercent: '2.5' }), { amount: 10_000, currency: 'EUR' }).amount).toBe(282);
    expect(calculateProviderFee(manual, ctx({}), { amount: 10_000, currency: 'EUR' }).amount).toBe(0);
  });
});
