import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps';

/** The buyer order flow (event page, cart, checkout, order page). Owned by the shop engineer. */
export const shopRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async () => {
  // Routes land here.
};
