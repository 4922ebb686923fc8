import type { FastifyPluginAsync } from 'fastify';
import { CatalogStore, OrderReadStore } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { renderPage, userOf } from './page';

/** The landing page: what needs the organizer's attention, per currency (amounts are never summed across currencies). */
export const dashboardRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const reads = new OrderReadStore(deps.dataSource);
  const catalog = new CatalogStore(deps.dataSource);
  // Organizer-wide order figures: for teams that view the orders of all events (others are sent on by control/index.ts).
  app.get('/control', { config: { permission: 'event.orders.view', permissionOnAllEvents: true } }, async (req, reply) => {
    const { organizerId } = userOf(req);
    const [{ byStatus, revenue }, attention, events] = await Promise.all([
      reads.dashboard(organizerId),
      deps.core.orders.search({ organizerId, externalRefund: true, page: 1, pageSize: 10 }),
      catalog.listEvents(organizerId, { limit: 6 }),
    ]);
    const recent = await deps.core.orders.search({ organizerId, page: 1, pageSize: 8 });
    return renderPage(req, reply, 'dashboard', {
      title: 'Dashboard', section: 'dashboard', byStatus, revenue,
      attention: attention.items, recent: recent.items, events,
    });
  });
};
