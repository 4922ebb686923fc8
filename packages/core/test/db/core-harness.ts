import { createKassaCore, type DataSource, type KassaCore, type Order } from '@kassa/core/host';
import {
  ScriptedProvider, TestClock, createShop, createTestDatabase, providerContextFactory, providerLookup,
  type ShopFixture, type TestDatabase,
} from '@kassa/testing';

/**
 * One test file's world: a fresh schema with the real migrations, a test clock, the real services
 * and three scripted providers:
 *   card — full and partial refunds, pending payments may be aborted;
 *   bank — no automatic refunds, pending payments may not be aborted;
 *   free — the zero-total provider.
 */
export interface CoreHarness {
  db: TestDatabase;
  ds: DataSource;
  clock: TestClock;
  core: KassaCore;
  card: ScriptedProvider;
  bank: ScriptedProvider;
  shop(opts?: Parameters<typeof createShop>[1]): Promise<ShopFixture>;
  /** Places an order of `count` tickets and returns it (payment through `provider`). */
  order(shop: ShopFixture, opts?: { count?: number; provider?: string }): Promise<{ order: Order; paymentId: string }>;
  destroy(): Promise<void>;
}

export const admin = { type: 'user', id: 'admin-1' } as const;

export async function createCoreHarness(extra: ScriptedProvider[] = []): Promise<CoreHarness> {
  const db = await createTestDatabase();
  const clock = new TestClock('2030-03-01T10:00:00Z');
  const card = new ScriptedProvider({ identifier: 'card', refund: true, partialRefund: true, abortPending: true });
  const bank = new ScriptedProvider({ identifier: 'bank' });
  const free = new ScriptedProvider({ identifier: 'free' });
  const providers = providerLookup(card, bank, free, ...extra);
  const core = createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock });
  return {
    db, ds: db.dataSource, clock, core, card, bank,
    shop: (opts) => createShop(db.dataSource, opts),
    async order(shop, opts = {}) {
      const placed = await core.orders.placeOrder({
        eventId: shop.event.id, email: 'buyer@example.org',
        positions: Array.from({ length: opts.count ?? 1 }, () => ({ productId: shop.product.id, attendeeName: 'Ada Lovelace' })),
        provider: opts.provider ?? 'card',
      });
      return { order: placed.order, paymentId: placed.payment?.id ?? '' };
    },
    async destroy() {
      await core.close();
      await db.destroy();
    },
  };
}

/** Log actions of an order, oldest first. */
export async function logActions(ds: DataSource, orderId: string): Promise<string[]> {
  const rows: { action: string }[] = await ds.query('SELECT action FROM log_entry WHERE order_id = $1 ORDER BY id', [orderId]);
  return rows.map((r) => r.action);
}

/** Outbox topics of an order, oldest first. */
export async function outboxTopics(ds: DataSource, orderId: string): Promise<string[]> {
  const rows: { topic: string }[] = await ds.query('SELECT topic FROM outbox_event WHERE order_id = $1 ORDER BY id', [orderId]);
  return rows.map((r) => r.topic);
}

/** The catalogued error code a promise rejects with (fails the test when it resolves). */
export async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? `uncatalogued: ${String(err)}`;
  }
  throw new Error('expected a refusal, but the call succeeded');
}
