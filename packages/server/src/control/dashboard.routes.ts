import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps';
import { renderPage, userOf } from './page';

/** The landing page: what needs the organizer's attention, per currency (amounts are never summed across currencies). */
export const dashboardRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get('/control', async (req, reply) => {
    const { organizerId } = userOf(req);
    const [counts, revenue, attention, events] = await Promise.all([
      deps.dataSource.query(
        `SELECT status, count(*)::int AS n FROM kassa_order WHERE organizer_id = $1 GROUP BY status`, [organizerId],
      ) as Promise<{ status: string; n: number }[]>,
      deps.dataSource.query(
        `SELECT o.currency, sum(p.amount)::text AS paid
           FROM order_payment p JOIN kassa_order o ON o.id = p.order_id
          WHERE o.organizer_id = $1 AND p.state IN ('confirmed', 'refunded')
          GROUP BY o.currency ORDER BY o.currency`, [organizerId],
      ) as Promise<{ currency: string; paid: string }[]>,
      deps.core.orders.search({ organizerId, externalRefund: true, page: 1, pageSize: 10 }),
      deps.dataSource.query('SELECT id, name, slug, currency, live FROM event WHERE organizer_id = $1 ORDER BY created_at DESC LIMIT 6', [organizerId]),
    ]);
    const byStatus = Object.fromEntries(counts.map((c) => [c.status, c.n]));
    const recent = await deps.core.orders.search({ organizerId, page: 1, pageSize: 8 });
    return renderPage(req, reply, 'dashboard', {
      title: 'Dashboard', section: 'dashboard', byStatus, revenue: revenue.map((r) => ({ currency: r.currency, paid: Number(r.paid) })),
      attention: attention.items, recent: recent.items, events,
    });
  });
};
