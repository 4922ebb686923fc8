import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps';
import { ShopSubmission1763800000000 } from './migrations/1763800000000-shop-submission';
/** The shop's own migrations (the idempotency ledger); main.ts and test databases run them after core's. */
export declare const shopMigrations: (typeof ShopSubmission1763800000000)[];
/**
 * The buyer order flow: event page → cart → contact → payment method → confirm → order placed and
 * paid → order page. Pages work without JavaScript; amounts always come from the server.
 */
export declare const shopRoutes: FastifyPluginAsync<{
    deps: AppDeps;
}>;
