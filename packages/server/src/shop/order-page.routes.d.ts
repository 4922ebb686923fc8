import type { FastifyPluginAsync } from 'fastify';
import type { ShopContext } from './shop-context';
/**
 * The buyer's order page (reached only through its secret link) and paying again: retrying a
 * failed payment or switching to another method where the open payment may be abandoned.
 */
export declare const orderPageRoutes: FastifyPluginAsync<{
    shop: ShopContext;
}>;
