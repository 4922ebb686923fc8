import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps';
import { checkoutRoutes } from './checkout.routes';
import { eventPageRoutes } from './event-page.routes';
import { frontPageRoutes } from './front-page.routes';
import { ShopSubmission1763800000000 } from './migrations/1763800000000-shop-submission';
import { HttpSession1763950000000 } from '../infra/migrations/1763950000000-http-session';
import { RateLimitCounter1765200000000 } from '../infra/migrations/1765200000000-rate-limit-counter';
import { RateLimitCounterUnlogged1769230000001 } from '../infra/migrations/1769230000001-rate-limit-counter-unlogged';
import { RateLimitCounterNoResetIndex1769250000100 } from '../infra/migrations/1769250000100-rate-limit-counter-no-reset-index';
import { ApiIdempotencyKey1767700000001 } from '../infra/migrations/1767700000001-api-idempotency-key';
import { BulkTask1767800000001 } from '../bulk/migrations/1767800000001-bulk-task';
import { BulkTaskFormKey1768800000001 } from '../bulk/migrations/1768800000001-bulk-task-form-key';
import { orderPageRoutes } from './order-page.routes';
import { savedMethodsRoutes } from './saved-methods.routes';
import { ShopContext, type ShopDeps } from './shop-context';

/**
 * The server's own migrations (the shop's idempotency ledger, the http sessions, the rate-limit
 * counters); the data source runs them with core's and the plugins', all ordered by timestamp.
 * (Named for the first of them; every harness passes this list.) HttpSession1763950000000 was
 * core's until the server took over its table: same class name, so a database that ran it there
 * does not run it again.
 */
export const shopMigrations = [ShopSubmission1763800000000, HttpSession1763950000000, RateLimitCounter1765200000000, ApiIdempotencyKey1767700000001, BulkTask1767800000001,
  BulkTaskFormKey1768800000001, RateLimitCounterUnlogged1769230000001, RateLimitCounterNoResetIndex1769250000100];

/**
 * The buyer order flow: event page → cart → contact → payment method → confirm → order placed and
 * paid → order page. Pages work without JavaScript; amounts always come from the server.
 */
export const shopRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const shop = new ShopContext(shopDepsFrom(deps));
  await assertLedgerTable(shop);
  await app.register(frontPageRoutes, { shop });
  await app.register(eventPageRoutes, { shop });
  await app.register(checkoutRoutes, { shop });
  await app.register(orderPageRoutes, { shop });
  await app.register(savedMethodsRoutes, { shop });
};

function shopDepsFrom(deps: AppDeps): ShopDeps {
  return {
    dataSource: deps.dataSource, clock: deps.clock, core: deps.core, providers: deps.providers, providerContext: deps.providerContext,
    placeOrderRateLimit: deps.config.rateLimits?.placeOrder, pluginViews: deps.pluginViews,
  };
}

/** Fails at boot, not at the first order, when the shop's migration was not run. */
async function assertLedgerTable(shop: ShopContext): Promise<void> {
  const rows = await shop.deps.dataSource.query("SELECT to_regclass('shop_submission') AS t") as { t: string | null }[];
  if (!rows[0]?.t) throw new Error('Table shop_submission is missing: run the shop migrations (shopMigrations from packages/server/src/shop) with core\'s');
}
