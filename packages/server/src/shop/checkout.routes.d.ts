import type { FastifyPluginAsync } from 'fastify';
import { type ShopContext } from './shop-context';
/**
 * Checkout: contact → payment method (and the provider's form) → confirm → order placed and
 * payment executed. Each GET shows a step from the session's checkout; each POST validates,
 * stores, and redirects (POST/redirect/GET, so a reload never resubmits).
 */
export declare const checkoutRoutes: FastifyPluginAsync<{
    shop: ShopContext;
}>;
