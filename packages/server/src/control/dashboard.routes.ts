import type { FastifyPluginAsync } from 'fastify';
import { CatalogStore, KassaError, OrderReadStore } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { chartData, dashboardFigures } from '../bulk/dashboard-data';
import { vendorScripts } from '../infra/vendor-scripts';
import type { DashboardNoticesSource } from '../infra/plugin-notices';
import { idParams, renderPage, userOf, uuid } from './page';

/**
 * The landing page: what needs the organizer's attention (amounts per currency, never summed across
 * currencies) and a chart of one event's orders and money per day. The chart is drawn by Chart.js
 * from the JSON route below (the same data as the API's); the table under it shows the same numbers
 * without JavaScript.
 */
export const dashboardRoutes: FastifyPluginAsync<{ deps: AppDeps; notices?: DashboardNoticesSource }> = async (app, { deps, notices }) => {
  const reads = new OrderReadStore(deps.dataSource);
  const catalog = new CatalogStore(deps.dataSource);
  // Organizer-wide order figures: for teams that view the orders of all events (others are sent on by control/index.ts).
  app.get<{ Querystring: { eventId?: string } }>('/control', {
    config: { permission: 'event.orders.view', permissionOnAllEvents: true },
    schema: { querystring: { type: 'object', properties: { eventId: uuid } } },
  }, async (req, reply) => {
    const { organizerId } = userOf(req);
    // Plugins' notices (what Stripe needs, by when) come first on the page; a failing plugin only loses its own.
    const [{ byStatus, revenue }, attention, events, figures, pluginNotices] = await Promise.all([
      reads.dashboard(organizerId),
      deps.core.orders.search({ organizerId, externalRefund: true, page: 1, pageSize: 10 }),
      catalog.listEvents(organizerId),
      dashboardFigures(deps, organizerId),
      notices ? notices(organizerId) : Promise.resolve([]),
    ]);
    const chartEvent = req.query.eventId ? events.find((e) => e.id === req.query.eventId) : events[0];
    if (req.query.eventId && !chartEvent) throw new KassaError('NOT_FOUND', { entity: 'Event' });
    const [recent, chart] = await Promise.all([
      deps.core.orders.search({ organizerId, page: 1, pageSize: 8 }),
      chartEvent ? chartData(deps, organizerId, chartEvent.id) : Promise.resolve(null),
    ]);
    return renderPage(req, reply, 'dashboard', {
      title: 'Dashboard', section: 'dashboard', byStatus, revenue, figures, pluginNotices,
      attention: attention.items, recent: recent.items, events: events.slice(0, 6), allEvents: events, chartEvent, chart,
      headScripts: chart ? [vendorScripts.chart, '/static/kassa-dashboard.js'] : [],
    });
  });

  app.get<{ Params: { eventId: string } }>('/control/events/:eventId/chart.json', { config: { permission: 'event.orders.view' }, schema: { params: idParams('eventId') } }, async (req, reply) => {
    const chart = await chartData(deps, userOf(req).organizerId, req.params.eventId);
    if (!chart) throw new KassaError('NOT_FOUND', { entity: 'Event' });
    return reply.header('cache-control', 'no-store').send(chart);
  });
};
