import type { FastifyPluginAsync } from 'fastify';
import type { ShopContext } from './shop-context';

/**
 * The site's root: the events on sale, each linking to its shop. Without it the URL the server
 * prints on start would answer 404. Only live events are listed; nothing per organizer is private here.
 */
export const frontPageRoutes: FastifyPluginAsync<{ shop: ShopContext }> = async (app, { shop }) => {
  app.get('/', async (_req, reply) => {
    const events = await shop.deps.dataSource.query(
      `SELECT e.name, e.slug, o.name AS organizer_name, o.slug AS organizer_slug
         FROM event e JOIN organizer o ON o.id = e.organizer_id
        WHERE e.live ORDER BY e.created_at DESC LIMIT 100`,
    ) as { name: string; slug: string; organizer_name: string; organizer_slug: string }[];
    return reply.view('shop/index', {
      events: events.map((e) => ({ name: e.name, organizer: e.organizer_name, url: `/${e.organizer_slug}/${e.slug}/` })),
    });
  });
};
