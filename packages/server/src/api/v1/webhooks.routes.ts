import type { FastifyPluginAsync } from 'fastify';
import { KassaError, webhookDeliveryStates, webhookEventTypes, type WebhookDelivery, type WebhookDeliverySummary, type WebhookEndpoint } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import { principalOf } from '../principal';
import { errorResponses, uuidSchema } from './schemas';

const endpointParams = { type: 'object', required: ['webhookId'], properties: { webhookId: uuidSchema } } as const;
const deliveryParams = { type: 'object', required: ['webhookId', 'deliveryId'], properties: { webhookId: uuidSchema, deliveryId: uuidSchema } } as const;
const eventTypes = { type: 'array', minItems: 1, maxItems: webhookEventTypes.length, uniqueItems: true, items: { type: 'string', enum: [...webhookEventTypes] } } as const;
const url = { type: 'string', minLength: 1, maxLength: 2000, description: 'https:// (or http://) URL of your system; private, loopback and link-local addresses are refused unless the operator allows them' } as const;

export const webhookSchema = {
  $id: 'Webhook',
  type: 'object',
  properties: {
    id: uuidSchema, url: { type: 'string' }, eventTypes: { type: 'array', items: { type: 'string', enum: [...webhookEventTypes] } },
    enabled: { type: 'boolean' }, comment: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'url', 'eventTypes', 'enabled', 'comment', 'createdAt', 'updatedAt'],
} as const;

const deliveryProperties = {
  id: uuidSchema, webhookId: uuidSchema, eventId: { type: 'string', description: 'evt_<n>: the same for every endpoint that received the event; ping_<delivery id> for a test ping' },
  eventType: { type: 'string', description: 'One of the subscribed event types, or `ping` for a test ping' }, state: { type: 'string', enum: [...webhookDeliveryStates] }, attempts: { type: 'integer' },
  responseStatus: { type: ['integer', 'null'] }, error: { type: ['string', 'null'] },
  createdAt: { type: 'string', format: 'date-time' }, lastAttemptAt: { type: ['string', 'null'], format: 'date-time' },
} as const;

export const webhookDeliverySchema = {
  $id: 'WebhookDelivery',
  type: 'object',
  properties: {
    ...deliveryProperties,
    payload: { type: 'object', additionalProperties: true, description: 'The exact JSON body sent (signed in the Kassa-Signature header)' },
    responseBody: { type: ['string', 'null'], description: 'The first 4 KiB of the answer' },
  },
  required: ['id', 'webhookId', 'eventId', 'eventType', 'state', 'attempts', 'responseStatus', 'error', 'createdAt', 'lastAttemptAt'],
} as const;

const withSecret = {
  type: 'object', required: ['webhook', 'secret'],
  properties: { webhook: { $ref: 'Webhook#' }, secret: { type: 'string', description: 'The signing secret (whsec_…): shown only in this answer' } },
} as const;

export function webhookJson(e: WebhookEndpoint) {
  return { id: e.id, url: e.url, eventTypes: e.eventTypes, enabled: e.enabled, comment: e.comment, createdAt: e.createdAt, updatedAt: e.updatedAt };
}

function deliveryJson(d: WebhookDeliverySummary | WebhookDelivery) {
  return {
    id: d.id, webhookId: d.endpointId, eventId: d.outboxEventId === null ? `ping_${d.id}` : `evt_${d.outboxEventId}`, eventType: d.eventType, state: d.state, attempts: d.attempts,
    responseStatus: d.responseStatus, error: d.error, createdAt: d.createdAt, lastAttemptAt: d.lastAttemptAt,
    ...('payload' in d ? { payload: d.payload, responseBody: d.responseBody } : {}),
  };
}

interface EndpointBody { url: string; eventTypes: string[]; enabled?: boolean; comment?: string }

/**
 * Organizer webhooks over the API (pretix's /webhooks/): CRUD, secret rotation, the delivery log,
 * a retry and a test ping. Another organizer's webhook or delivery is NOT_FOUND.
 */
export const webhookApiRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const webhooks = deps.webhooks;
  if (!webhooks) return;
  const { service } = webhooks;

  app.get('/webhooks', { config: { permission: 'organizer.settings' },
    schema: { summary: 'List webhooks', tags: ['webhooks'], response: { 200: { type: 'object', properties: { results: { type: 'array', items: { $ref: 'Webhook#' } } }, required: ['results'] }, ...errorResponses } },
  }, async (req) => ({ results: (await service.list(principalOf(req).organizerId)).map(webhookJson) }));

  app.post<{ Body: EndpointBody }>('/webhooks', { config: { permission: 'organizer.settings' },
    schema: {
      summary: 'Create a webhook', tags: ['webhooks'],
      description: 'Answers the signing secret once. Every delivery is a POST of JSON `{ id, type, createdAt, organizerId, data }` with the header '
        + '`Kassa-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (as Stripe signs). Deliveries that do not get a 2xx answer are retried with backoff.',
      body: {
        type: 'object', required: ['url', 'eventTypes'], additionalProperties: false,
        properties: { url, eventTypes, enabled: { type: 'boolean', default: true }, comment: { type: 'string', maxLength: 200 } },
      },
      response: { 201: withSecret, ...errorResponses },
    },
  }, async (req, reply) => {
    const { endpoint, secret } = await service.create(principalOf(req).organizerId, req.body);
    return reply.code(201).send({ webhook: webhookJson(endpoint), secret });
  });

  app.get<{ Params: { webhookId: string } }>('/webhooks/:webhookId', { config: { permission: 'organizer.settings' },
    schema: { summary: 'Retrieve a webhook', tags: ['webhooks'], params: endpointParams, response: { 200: { $ref: 'Webhook#' }, ...errorResponses } },
  }, async (req) => webhookJson(await service.get(principalOf(req).organizerId, req.params.webhookId)));

  app.patch<{ Params: { webhookId: string }; Body: Partial<EndpointBody> }>('/webhooks/:webhookId', { config: { permission: 'organizer.settings' },
    schema: {
      summary: 'Change a webhook', tags: ['webhooks'], params: endpointParams,
      body: { type: 'object', minProperties: 1, additionalProperties: false, properties: { url, eventTypes, enabled: { type: 'boolean' }, comment: { type: 'string', maxLength: 200 } } },
      response: { 200: { $ref: 'Webhook#' }, ...errorResponses },
    },
  }, async (req) => webhookJson(await service.update(principalOf(req).organizerId, req.params.webhookId, req.body)));

  app.delete<{ Params: { webhookId: string } }>('/webhooks/:webhookId', { config: { permission: 'organizer.settings' },
    schema: { summary: 'Delete a webhook and its delivery log', tags: ['webhooks'], params: endpointParams, response: { 204: { type: 'null' }, ...errorResponses } },
  }, async (req, reply) => {
    await service.remove(principalOf(req).organizerId, req.params.webhookId);
    return reply.code(204).send();
  });

  app.post<{ Params: { webhookId: string } }>('/webhooks/:webhookId/rotate_secret', { config: { permission: 'organizer.settings' },
    schema: {
      summary: 'Replace the signing secret', tags: ['webhooks'], description: 'The old secret stops working at once; the new one is answered once.',
      params: endpointParams, body: { type: 'object', properties: {}, additionalProperties: false }, response: { 200: withSecret, ...errorResponses },
    },
  }, async (req) => {
    const { endpoint, secret } = await service.rotateSecret(principalOf(req).organizerId, req.params.webhookId);
    return { webhook: webhookJson(endpoint), secret };
  });

  app.get<{ Params: { webhookId: string }; Querystring: { page?: number } }>('/webhooks/:webhookId/deliveries', { config: { permission: 'organizer.settings' },
    schema: {
      summary: "A webhook's delivery log, newest first", tags: ['webhooks'], params: endpointParams,
      querystring: { type: 'object', additionalProperties: false, properties: { page: { type: 'integer', minimum: 1, maximum: 10_000, default: 1 } } },
      response: { 200: { type: 'object', properties: { results: { type: 'array', items: { $ref: 'WebhookDelivery#' } } }, required: ['results'] }, ...errorResponses },
    },
  }, async (req) => ({ results: (await service.deliveries(principalOf(req).organizerId, req.params.webhookId, req.query.page ?? 1)).map(deliveryJson) }));

  app.get<{ Params: { webhookId: string; deliveryId: string } }>('/webhooks/:webhookId/deliveries/:deliveryId', { config: { permission: 'organizer.settings' },
    schema: { summary: 'One delivery with its payload and the answer', tags: ['webhooks'], params: deliveryParams, response: { 200: { $ref: 'WebhookDelivery#' }, ...errorResponses } },
  }, async (req) => deliveryJson(await ownDelivery(req.params, principalOf(req).organizerId)));

  app.post<{ Params: { webhookId: string; deliveryId: string } }>('/webhooks/:webhookId/deliveries/:deliveryId/retry', { config: { permission: 'organizer.settings' },
    schema: {
      summary: 'Send a delivery again', tags: ['webhooks'], description: 'Queues the delivery again (also a delivered one: receivers deduplicate by the event `id`). Answers 202.',
      params: deliveryParams, body: { type: 'object', properties: {}, additionalProperties: false }, response: { 202: { $ref: 'WebhookDelivery#' }, ...errorResponses },
    },
  }, async (req, reply) => {
    const { organizerId } = principalOf(req);
    await ownDelivery(req.params, organizerId);
    if (!webhooks.enqueue) throw new KassaError('NOT_FOUND', { entity: 'Job runtime' });
    const queued = await service.requeue(organizerId, req.params.deliveryId);
    await webhooks.enqueue([{ id: queued.id, organizerId }], queued.attempts);
    return reply.code(202).send(deliveryJson(await service.delivery(organizerId, queued.id)));
  });

  app.post<{ Params: { webhookId: string } }>('/webhooks/:webhookId/ping', { config: { permission: 'organizer.settings' },
    schema: {
      summary: 'Send a test ping', tags: ['webhooks'],
      description: 'Queues a delivery of type `ping` (body `{ "id": "ping_…", "type": "ping", "createdAt", "organizerId", "data": { "webhookId" } }`) to this webhook, '
        + 'signed with its secret like every delivery and kept in its delivery log, whatever event types it subscribed to. Answers 202 with the delivery; poll it for the answer.',
      params: endpointParams, body: { type: 'object', properties: {}, additionalProperties: false }, response: { 202: { $ref: 'WebhookDelivery#' }, ...errorResponses },
    },
  }, async (req, reply) => {
    const { organizerId } = principalOf(req);
    await service.get(organizerId, req.params.webhookId);
    if (!webhooks.enqueue) throw new KassaError('NOT_FOUND', { entity: 'Job runtime' });
    const ping = await service.ping(organizerId, req.params.webhookId);
    await webhooks.enqueue([{ id: ping.id, organizerId }]);
    return reply.code(202).send(deliveryJson(await service.delivery(organizerId, ping.id)));
  });

  /** The delivery, if it belongs to this webhook of this organizer. */
  async function ownDelivery(p: { webhookId: string; deliveryId: string }, organizerId: string): Promise<WebhookDelivery> {
    const delivery = await service.delivery(organizerId, p.deliveryId);
    if (delivery.endpointId !== p.webhookId) throw new KassaError('NOT_FOUND', { entity: 'Webhook delivery' });
    return delivery;
  }
};
