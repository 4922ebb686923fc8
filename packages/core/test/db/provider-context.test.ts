import { randomBytes } from 'node:crypto';
import { TestClock, createShop, createTestDatabase, snapshotRows, type ShopFixture, type TestDatabase } from '@kassa/testing';
import {
  BasePaymentProvider, KassaError, SettingsStore, createKassaCore, createProviderContextFactory, definePlugin, eventSettings, globalSettings,
  loadPlugins, organizerSettings, type KassaCore, type PaymentOutcome, type ProviderContext, type ProviderContextFactory,
} from '../../src/host';

/** A provider that reports what it saw, so the test can check the context core built for it. */
class VaultProvider extends BasePaymentProvider<{ apiKey: string; account: string }> {
  readonly identifier = 'vault';
  readonly verboseName = 'Vault';
  override readonly settingsSchema = {
    type: 'object',
    properties: { apiKey: { type: 'string', 'x-secret': true }, account: { type: 'string', default: 'default-account' } },
    required: ['apiKey'],
    additionalProperties: false,
  };
  seen: ProviderContext<{ apiKey: string; account: string }> | null = null;
  executePayment(ctx: ProviderContext<{ apiKey: string; account: string }>): Promise<PaymentOutcome> {
    this.seen = ctx;
    return Promise.resolve({ kind: 'confirmed', info: { reference: 'v-1' } });
  }
}

async function refusal(work: Promise<unknown>): Promise<KassaError> {
  try { await work; } catch (err) { if (err instanceof KassaError) return err; throw err; }
  throw new Error('expected a refusal');
}

describe('provider context from the settings store, wired into the real services', () => {
  let db: TestDatabase;
  let store: SettingsStore;
  let contextFor: ProviderContextFactory;
  let core: KassaCore;
  let shop: ShopFixture;
  const loaded = loadPlugins([definePlugin({ name: 'vault', version: '1.0.0', coreRange: '^0.1.0', providers: [VaultProvider] })]);
  const clock = new TestClock('2030-03-01T10:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 4 });
    store = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
    contextFor = createProviderContextFactory({ providers: loaded.providers, settings: store, clock, baseUrl: 'https://tickets.example.org/' });
    core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext: contextFor, clock });
    shop = await createShop(db.dataSource, { price: 1000 });
  });
  afterAll(async () => { await db.destroy(); });

  const order = (provider: string) => core.orders.placeOrder({ eventId: shop.event.id, email: 'buyer@example.org', positions: [{ productId: shop.product.id }], provider });

  it('refuses a provider nobody enabled, writing nothing', async () => {
    const before = await snapshotRows(db.dataSource);
    const err = await refusal(order('manual'));
    expect(err.code).toBe('PAYMENT_PROVIDER_NOT_ALLOWED');
    expect(err.message).toContain('manual is not enabled for this event');
    expect(await snapshotRows(db.dataSource)).toEqual(before);
  });

  it('builds the context from the hierarchy: own settings apart, framework settings typed, frozen', async () => {
    await store.set(globalSettings, 'payment.manual', { _feePercent: '2' });
    await store.set(organizerSettings(shop.organizer.id), 'payment.manual', {
      _enabled: true, _feeAbs: 50, publicName: 'Invoice', pendingInstructions: 'Transfer within 14 days',
    });
    await store.set(eventSettings(shop.event), 'payment.manual', { _feeReverseCalc: false });
    const ctx = await contextFor(shop.event, 'manual');
    expect(ctx.settings).toEqual({ publicName: 'Invoice', pendingInstructions: 'Transfer within 14 days' });
    expect(ctx.common).toMatchObject({ enabled: true, feeAbs: 50, feePercent: '2', feeReverseCalc: false, totalMax: null, restrictedCountries: [] });
    expect(ctx.baseUrl).toBe('https://tickets.example.org');
    expect(ctx.clock).toBe(clock);
    expect(Object.isFrozen(ctx) && Object.isFrozen(ctx.settings) && Object.isFrozen(ctx.common)).toBe(true);
  });

  it('lets the services charge the configured fee and run the manual flow (pending until the organizer confirms)', async () => {
    const placed = await order('manual');
    // forward calculation: 1000 × 2 % + 50
    expect(placed.fees.map((f) => f.value)).toEqual([70]);
    expect(placed.order.total).toBe(1070);
    const result = await core.payments.executePayment((placed.payment as { id: string }).id, {});
    expect(result.outcome).toEqual({ kind: 'pending' });
    const [row] = await db.dataSource.query('SELECT state FROM order_payment WHERE id = $1', [placed.payment?.id]);
    expect(row.state).toBe('pending');
  });

  it('applies an event-level maximum total through the services', async () => {
    await store.set(eventSettings(shop.event), 'payment.manual', { _totalMax: 500 });
    const err = await refusal(order('manual'));
    expect(err.code).toBe('PAYMENT_PROVIDER_NOT_ALLOWED');
    expect(err.message).toContain('total 1000 is above the maximum 500');
    await store.set(eventSettings(shop.event), 'payment.manual', { _totalMax: null });
  });

  it('hands the provider its secret in clear, and only there', async () => {
    await store.set(eventSettings(shop.event), 'payment.vault', { _enabled: true, apiKey: 'vault-secret-123' });
    const placed = await order('vault');
    await core.payments.executePayment((placed.payment as { id: string }).id, {});
    const provider = loaded.providers.get('vault') as VaultProvider;
    expect(provider.seen?.settings).toEqual({ apiKey: 'vault-secret-123', account: 'default-account' });
    expect((await store.getForDisplay(eventSettings(shop.event), 'payment.vault')).values.apiKey).toEqual({ set: true });
  });

  it('with a read cache, shares one split of settings without secrets between contexts, and decrypts secrets per context', async () => {
    const cached = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32), cacheMs: 60_000, clock });
    const contexts = createProviderContextFactory({ providers: loaded.providers, settings: cached, clock, baseUrl: 'https://tickets.example.org' });
    await cached.set(eventSettings(shop.event), 'payment.manual', { _enabled: true, _feeAbs: 50 });
    await cached.set(eventSettings(shop.event), 'payment.vault', { _enabled: true, apiKey: 'vault-secret-456' });
    const [m1, m2] = [await contexts(shop.event, 'manual'), await contexts(shop.event, 'manual')];
    expect(m2.settings).toBe(m1.settings);
    expect(m2.common).toBe(m1.common);
    expect(m1.common?.feeAbs).toBe(50);
    const [v1, v2] = [await contexts(shop.event, 'vault'), await contexts(shop.event, 'vault')];
    expect(v1.settings).toEqual({ apiKey: 'vault-secret-456', account: 'default-account' });
    expect(v2.settings).not.toBe(v1.settings);
    // A write shows at once (the same store).
    await cached.set(eventSettings(shop.event), 'payment.manual', { _feeAbs: 70 });
    expect((await contexts(shop.event, 'manual')).common?.feeAbs).toBe(70);
  });

  it('refuses a context for an unknown provider with PAYMENT_PROVIDER_UNKNOWN', async () => {
    expect((await refusal(contextFor(shop.event, 'stripe'))).code).toBe('PAYMENT_PROVIDER_UNKNOWN');
  });
});
