import path from 'node:path';
import {
  createKassaCore, createProviderContextFactory, eventSettings, loadPlugins, SettingsStore, type BasePaymentProvider, type Clock,
  type Event, type KassaCore, type ProviderRegistry, definePlugin,
} from '@kassa/core/host';
import { createTestDatabase, TestClock, type TestDatabase } from '@kassa/testing';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { shopMigrations } from '../../src/shop';
import { buyerCookieName, type BuyerSessionData } from '../../src/infra/buyer-session';
import { SealedCookie } from '../../src/infra/sealed-cookie';
import { sessionMaxAgeMs } from '../../src/infra/security';
import type { CheckoutState } from '../../src/shop/checkout-session';
import type { Buyer } from './buyer';

/** The test app's session secret (tests open the buyer's sealed cookie with it). */
const sessionSecret = 's'.repeat(40);

export interface ShopTestApp {
  db: TestDatabase;
  app: FastifyInstance;
  core: KassaCore;
  providers: ProviderRegistry;
  settings: SettingsStore;
  clock: TestClock;
  close(): Promise<void>;
}

/**
 * The real app on a fresh schema of the real PostgreSQL (core's and the shop's migrations), with
 * the built-in providers and any extra real providers a test adds. Nothing of ours is mocked.
 */
export async function createShopTestApp(opts: { providers?: BasePaymentProvider[]; placeOrderLimit?: number; passwordLogN?: number } = {}): Promise<ShopTestApp> {
  const db = await createTestDatabase({ migrations: shopMigrations });
  const clock = new TestClock(new Date());
  // Extra providers come in as a plugin, like any third-party provider, so their settings namespace exists.
  const extra = opts.providers?.length
    ? [definePlugin({
      name: 'test-providers', version: '1.0.0', coreRange: '*', providers: opts.providers.map((p) => () => p),
      views: path.join(__dirname, 'fixtures', 'views'),
    })]
    : [];
  const loaded = loadPlugins(extra, { clock });
  const providers = loaded.providers;
  const settings = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas, secretKey: null });
  const providerContext = createProviderContextFactory({ providers, settings, clock: clock as Clock, baseUrl: 'http://localhost' });
  const core = createKassaCore({ dataSource: db.dataSource, providers, providerContext, clock });
  const app = await buildApp({
    dataSource: db.dataSource, clock, core, providers, providerContext, settings, settingsSchemas: loaded.settingsSchemas,
    pluginViews: Object.fromEntries(loaded.views.map((v) => [v.plugin, v.dir])),
    config: {
      baseUrl: 'http://localhost', sessionSecret, logger: false, passwordLogN: opts.passwordLogN,
      rateLimits: { placeOrder: { max: opts.placeOrderLimit ?? 1000, timeWindow: '1 minute' } },
    },
  });
  return {
    db, app, core, providers, settings, clock,
    async close() {
      await app.close();
      await db.destroy();
    },
  };
}

/** Turns the manual provider on for an event, as an organizer would in the control panel. */
export async function enableManual(t: ShopTestApp, event: Event, extra: Record<string, unknown> = {}): Promise<void> {
  await t.settings.set(eventSettings(event), 'payment.manual', {
    _enabled: true, publicName: 'Pay at the box office', pendingInstructions: 'Bring cash to the box office, quoting your order code.', ...extra,
  });
}

/** What the buyer's sealed checkout cookie holds now, opened with the test app's secret (null without one). */
export function buyerCookie(buyer: Buyer): (BuyerSessionData & { shop?: Record<string, CheckoutState> }) | null {
  return new SealedCookie<BuyerSessionData>(buyerCookieName, sessionSecret, sessionMaxAgeMs).open(buyer.cookie(buyerCookieName), new Date());
}
