import type { FastifyPluginAsync } from 'fastify';
import type { ShopContext } from './shop-context';
/** The event page (products, prices, what is left) and the cart form behind it. */
export declare const eventPageRoutes: FastifyPluginAsync<{
    shop: ShopContext;
}>;
