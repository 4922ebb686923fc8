import type { FastifyPluginAsync } from 'fastify';
import { CatalogStore } from '@kassa/core/host';
import type { ShopContext } from './shop-context';
import { eventUrl } from './urls';

/**
 * The site's root: the events on sale, each linking to its shop. Without it the URL the server
 * prints on start would answer 404. Only live events are listed; nothing per organizer is private here.
 */
export const frontPageRoutes: FastifyPluginAsync<{ shop: ShopContext }> = async (app, { shop }) => {
  const catalog = new CatalogStore(shop.deps.dataSource);
  app.get('/', async (_req, reply) => {
    const events = await catalog.liveEvents(100);
    return reply.view('shop/index', {
      events: events.map((e) => ({ name: e.name, organizer: e.organizerName, url: eventUrl({ slug: e.organizerSlug }, e) })),
    });
  });
};
