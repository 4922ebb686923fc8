import { createKassaCore, type DataSource, type KassaCore, type Order } from '@kassa/core/host';
import {
  MemoryChargeLedger, StoredMethodProvider, TestClock, createShop, createTestDatabase, providerContextFactory, providerLookup,
  type ShopFixture, type TestDatabase,
} from '@kassa/testing';

/** One test file's world for payment plans: the real services and a provider that stores methods ("saved"). */
export interface PlanHarness {
  db: TestDatabase;
  ds: DataSource;
  clock: TestClock;
  core: KassaCore;
  saved: StoredMethodProvider;
  ledger: MemoryChargeLedger;
  /** A shop whose event offers plans (3 instalments every 30 days unless `settings` says otherwise). */
  shop(settings?: Record<string, unknown>, price?: number): Promise<ShopFixture>;
  /** An order with its plan, the deposit paid on-session and a saved card `pm_<n>` for the rest. */
  planOrder(shop: ShopFixture, opts?: { reference?: string; email?: string; payDeposit?: boolean }): Promise<{ order: Order; paymentId: string; methodId: string }>;
  destroy(): Promise<void>;
}

let cards = 0;

export async function createPlanHarness(): Promise<PlanHarness> {
  const db = await createTestDatabase();
  const clock = new TestClock('2030-03-01T10:00:00Z');
  const ledger = new MemoryChargeLedger();
  const saved = new StoredMethodProvider({ identifier: 'saved', ledger });
  const providers = providerLookup(saved);
  const core = createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock });
  return {
    db, ds: db.dataSource, clock, core, saved, ledger,
    async shop(settings = {}, price = 1000) {
      const shop = await createShop(db.dataSource, { price });
      await core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 3, intervalDays: 30, graceDays: 7, ...settings });
      return shop;
    },
    async planOrder(shop, opts = {}) {
      const placed = await core.orders.placeOrder({
        eventId: shop.event.id, email: opts.email ?? 'buyer@example.org', positions: [{ productId: shop.product.id, attendeeName: 'Ada Lovelace' }], provider: 'saved',
      });
      const order = placed.order;
      await core.plans.createPlan(order.id, { provider: 'saved', actor: { type: 'system' } });
      const method = await core.storedMethods.save(order.id, 'saved', {
        reference: opts.reference ?? `pm_${++cards}`, customerReference: 'cus_1', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034,
      });
      await core.plans.useMethod(order.id, method.id, { type: 'system' });
      if (opts.payDeposit !== false) await core.payments.executePayment(placed.payment!.id, {});
      return { order, paymentId: placed.payment!.id, methodId: method.id };
    },
    async destroy() {
      await core.close();
      await db.destroy();
    },
  };
}
