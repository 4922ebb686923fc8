import type { FastifyPluginAsync } from 'fastify';
import { KassaError } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import { chartData, dashboardFigures } from '../../bulk/dashboard-data';
import { principalOf } from '../principal';
import { errorResponses, uuidSchema } from './schemas';

/** The dashboard's data: an event's chart and the figures to act on (the control panel's chart reads the same). */
export const dashboardApiRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get<{ Params: { eventId: string }; Querystring: { days: number } }>('/events/:eventId/chart', {
    config: { permission: 'event.orders.view' },
    schema: {
      summary: "An event's orders and revenue per day (paid, pending, refunded)", tags: ['dashboard'],
      params: { type: 'object', required: ['eventId'], properties: { eventId: uuidSchema } },
      querystring: { type: 'object', properties: { days: { type: 'integer', minimum: 1, maximum: 366, default: 60 } }, additionalProperties: false },
      response: { 200: { $ref: 'EventChart#' }, ...errorResponses },
    },
  }, async (req) => {
    const chart = await chartData(deps, principalOf(req).organizerId, req.params.eventId, req.query.days);
    if (!chart) throw new KassaError('NOT_FOUND', { entity: 'Event' });
    return chart;
  });

  app.get('/dashboard', {
    config: { permission: 'event.orders.view', permissionOnAllEvents: true },
    schema: {
      summary: 'What needs attention: open amount, overpaid orders, refunds waiting', tags: ['dashboard'],
      response: {
        200: {
          type: 'object',
          properties: {
            openAmount: { type: 'array', items: { type: 'object', properties: { currency: { type: 'string' }, amount: { type: 'integer' } } } },
            overpaidOrders: { type: 'integer' },
            refundsWaiting: { type: 'integer', description: 'Manual refunds to pay out, and failed refunds to retry or settle' },
            externalRefundsWaiting: { type: 'integer', description: 'Refunds made outside Kassa waiting for a decision' },
            failedInstalments: { type: 'integer', description: 'Instalments of payment plans that failed off-session and wait for the buyer (authentication, a new card)' },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => dashboardFigures(deps, principalOf(req).organizerId));
};
