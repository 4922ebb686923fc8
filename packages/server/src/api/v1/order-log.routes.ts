import type { FastifyPluginAsync } from 'fastify';
import { actorTypes, logLocales, readableEventLog, readableOrderLog, type LogLocale } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { logLocaleOf, providerName } from '../../infra/readable-log';
import { principalOf } from '../principal';
import { errorResponses, uuidSchema } from './schemas';

export const logEntrySchema = {
  $id: 'LogEntry',
  type: 'object',
  properties: {
    id: { type: 'string' },
    action: { type: 'string', description: 'The stable action code, e.g. kassa.order.payment.confirmed' },
    sentence: { type: 'string', description: 'The entry for people, e.g. "Payment P-2 of €45.00 confirmed by Stripe"' },
    actor: {
      type: 'object', required: ['type', 'id', 'label'],
      properties: { type: { type: 'string', enum: [...actorTypes] }, id: { type: ['string', 'null'] }, label: { type: 'string' } },
    },
    objectType: { type: 'string' },
    objectId: { type: 'string' },
    data: { type: 'object', additionalProperties: true, description: 'The details the entry was written with' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'action', 'sentence', 'actor', 'objectType', 'objectId', 'data', 'createdAt'],
} as const;

/**
 * GET /api/v1/orders/:orderId/log: the order's log in people's language (en or de), the codes kept;
 * GET /api/v1/events/:eventId/log: the event's own entries (e.g. the data shredder's run over it).
 */
export const orderLogApiRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  app.get<{ Params: { orderId: string }; Querystring: { locale?: LogLocale; limit?: number } }>('/orders/:orderId/log', { config: { permission: 'event.orders.view' },
    schema: {
      summary: "An order's log, newest first, with a sentence per entry", tags: ['log'],
      description: 'The sentence is in `locale` (`en` or `de`; without it, the Accept-Language header decides, English by default). The action code and its details stay beside it.',
      params: { type: 'object', required: ['orderId'], properties: { orderId: uuidSchema } },
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { locale: { type: 'string', enum: [...logLocales] }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
      },
      response: { 200: { type: 'object', required: ['results'], properties: { results: { type: 'array', items: { $ref: 'LogEntry#' } } } }, ...errorResponses },
    },
  }, async (req) => {
    const order = await scope.order(principalOf(req).organizerId, req.params.orderId);
    const results = await readableOrderLog(deps.dataSource, {
      organizerId: order.organizerId, orderId: order.id, locale: req.query.locale ?? logLocaleOf(req.headers['accept-language']),
      sentences: deps.logSentences, providerName: (id) => providerName(deps, id), limit: req.query.limit ?? 100,
    });
    return { results };
  });

  const query = {
    type: 'object', additionalProperties: false,
    properties: { locale: { type: 'string', enum: [...logLocales] }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
  } as const;

  app.get<{ Params: { eventId: string }; Querystring: { locale?: LogLocale; limit?: number } }>('/events/:eventId/log', { config: { permission: 'event.orders.view' },
    schema: {
      summary: "An event's own log (entries of no single order), newest first", tags: ['log'],
      description: 'Entries about the event as a whole, e.g. `kassa.event.shredded` ("Personal data of 120 orders of this event removed by …", `data.orders` the count). Each order keeps its own entries in its log.',
      params: { type: 'object', required: ['eventId'], properties: { eventId: uuidSchema } }, querystring: query,
      response: { 200: { type: 'object', required: ['results'], properties: { results: { type: 'array', items: { $ref: 'LogEntry#' } } } }, ...errorResponses },
    },
  }, async (req) => {
    const event = await scope.event(principalOf(req).organizerId, req.params.eventId);
    const results = await readableEventLog(deps.dataSource, {
      organizerId: event.organizerId, eventId: event.id, currency: event.currency, locale: req.query.locale ?? logLocaleOf(req.headers['accept-language']),
      sentences: deps.logSentences, limit: req.query.limit ?? 100,
    });
    return { results };
  });
};
