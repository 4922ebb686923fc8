import { randomBytes } from 'node:crypto';
import {
  SettingsStore, createKassaCore, createPluginRuntimes, createProviderContextFactory, loadPlugins, organizerSettings, type KassaCore, type OrderStatus,
  type PluginRuntime, type Product, type ProviderContextFactory, type ProviderLookup,
} from '@kassa/core/host';
import { TestClock, createShop, createProduct, createQuota, createTestDatabase, type ShopFixture, type TestDatabase } from '@kassa/testing';
import { createBankTransferPlugin } from '../../src';

export const ACCOUNT = { accountHolder: 'Winterfest e.V.', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', showQrCode: true };

/** Core and the bank transfer plugin's runtime on a fresh database with the real migrations. */
export interface BankHarness {
  db: TestDatabase;
  core: KassaCore;
  settings: SettingsStore;
  clock: TestClock;
  rt: PluginRuntime;
  /** The registry and context factory core uses (the jobs runtime gets them for the emails). */
  providers: ProviderLookup;
  providerContext: ProviderContextFactory;
  enqueued: { job: string; payload: Record<string, unknown>; jobId?: string }[];
  destroy(): Promise<void>;
}

export async function createBankHarness(extraMigrations: readonly (new () => unknown)[] = []): Promise<BankHarness> {
  const plugin = createBankTransferPlugin();
  const clock = new TestClock(new Date());
  const loaded = loadPlugins([plugin], { clock });
  const db = await createTestDatabase({ migrations: [...loaded.migrations, ...(extraMigrations as never[])], poolSize: 4 });
  const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: randomBytes(32) });
  const baseUrl = 'https://shop.kassa.test';
  const providerContext = createProviderContextFactory({ providers: loaded.providers, settings, clock, baseUrl });
  const core = createKassaCore({ dataSource: db.dataSource, providers: loaded.providers, providerContext, clock });
  const runtimes = createPluginRuntimes({ core, dataSource: db.dataSource, settings, clock, baseUrl }, [plugin]);
  const enqueued: BankHarness['enqueued'] = [];
  const rt = runtimes.runtime(plugin, {
    enqueue: async (job, payload, o) => { enqueued.push({ job, payload, ...(o?.jobId ? { jobId: o.jobId } : {}) }); },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  return {
    db, core, settings, clock, rt, enqueued, providers: loaded.providers, providerContext,
    async destroy() {
      await runtimes.close();
      await db.destroy();
    },
  };
}

export interface DemoShop {
  shop: ShopFixture;
  /** Order id by code. */
  orders: Record<string, string>;
  /** The pending bank transfer payment (made at placement) by order code. */
  payments: Record<string, string>;
}

/**
 * An organizer with event "demo" and bank transfer enabled, and the orders the sample statements
 * pay for (test/support/samples.ts demoOrders): their codes are set to the samples' codes, their
 * states made through core (paid by the organizer, canceled, expired).
 */
export async function createDemoShop(h: BankHarness, spec: readonly { code: string; status: OrderStatus; total: number }[], slug = 'demo'): Promise<DemoShop> {
  const shop = await createShop(h.db.dataSource, { price: 1000, event: { slug, paymentTermAcceptLate: true } as never });
  await h.settings.set(organizerSettings(shop.organizer.id), 'payment.banktransfer', { _enabled: true, ...ACCOUNT });
  const orders: Record<string, string> = {};
  const payments: Record<string, string> = {};
  const actor = { type: 'system' as const };
  const prices = [...new Set(spec.map((o) => o.total))];
  const products = new Map<number, Product>();
  for (const price of prices) products.set(price, await createProduct(h.db.dataSource, shop.event.id, { price }));
  await createQuota(h.db.dataSource, shop.event.id, [...products.values()], 100, 'Demo quota');
  for (const o of spec) {
    const product = products.get(o.total)!;
    const placed = await h.core.orders.placeOrder({ eventId: shop.event.id, email: 'buyer@example.org', positions: [{ productId: product.id }], provider: 'banktransfer' });
    const paymentId = placed.payment!.id;
    await h.core.payments.executePayment(paymentId, {});
    await h.db.dataSource.query('UPDATE kassa_order SET code = $2 WHERE id = $1', [placed.order.id, o.code]);
    orders[o.code] = placed.order.id;
    payments[o.code] = paymentId;
    if (o.status === 'paid') await h.core.orders.markPaid(placed.order.id, { actor });
    if (o.status === 'canceled') await h.core.orders.cancelOrder(placed.order.id, { actor, notifyBuyer: false });
    if (o.status === 'expired') {
      await h.db.dataSource.query(`UPDATE kassa_order SET expires = now() - interval '1 day' WHERE id = $1`, [placed.order.id]);
      await h.core.orders.expireOrders(new Date());
    }
  }
  return { shop, orders, payments };
}

/** Payments of an order: state, amount, provider, info. */
export async function paymentsOf(h: BankHarness, orderId: string): Promise<{ id: string; state: string; amount: number; provider: string; info: Record<string, unknown> }[]> {
  return h.db.dataSource.query('SELECT id, state, amount::int AS amount, provider, info FROM order_payment WHERE order_id = $1 ORDER BY local_id', [orderId]);
}

export async function orderRow(h: BankHarness, orderId: string): Promise<{ status: string; total: number }> {
  const [row] = await h.db.dataSource.query('SELECT status, total::int AS total FROM kassa_order WHERE id = $1', [orderId]);
  return row;
}
