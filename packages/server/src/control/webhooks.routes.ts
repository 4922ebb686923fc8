import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { KassaError, webhookEventTypes, type WebhookEndpoint } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { fieldErrors, formRefusal, idParams, redirectWithFlash, renderPage, userOf } from './page';

const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string' } }, additionalProperties: false } as const;
const endpointBody = {
  type: 'object',
  properties: {
    _csrf: { type: 'string' },
    url: { type: 'string', minLength: 1, maxLength: 2000 },
    eventTypes: { type: 'array', maxItems: webhookEventTypes.length, items: { type: 'string', maxLength: 40 } },
    enabled: { type: 'string', enum: ['on'] },
    comment: { type: 'string', maxLength: 200 },
  },
  required: ['url'],
  additionalProperties: false,
} as const;

type EndpointForm = { url: string; eventTypes?: string[]; enabled?: 'on'; comment?: string };

/** Human names of the event types, for the form and the lists. */
const eventTypeLabels: Record<string, string> = {
  'order.placed': 'Order placed', 'order.paid': 'Order paid', 'order.canceled': 'Order canceled', 'refund.done': 'Refund done', ping: 'Test ping',
};

/**
 * Organizer webhooks in the control panel (permission organizer.settings, like API tokens): endpoints (create,
 * change, delete, rotate the secret, send a test ping), each endpoint's delivery log, one delivery's
 * payload and answer, and a retry. Another organizer's endpoint or delivery is NOT_FOUND.
 */
export const webhookControlRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const webhooks = deps.webhooks;
  if (!webhooks) return;
  const { service } = webhooks;

  const listPage = async (req: FastifyRequest, reply: FastifyReply, extra: { values?: Record<string, unknown>; errors?: Record<string, string>; created?: { endpoint: WebhookEndpoint; secret: string } } = {}) => {
    const endpoints = await service.list(userOf(req).organizerId);
    return renderPage(req, reply, 'webhooks', {
      title: 'Webhooks', section: 'webhooks', endpoints, eventTypes: webhookEventTypes, eventTypeLabels,
      values: extra.values ?? { url: '', eventTypes: [...webhookEventTypes], enabled: true, comment: '' }, errors: extra.errors ?? {}, created: extra.created,
    });
  };
  const input = (b: EndpointForm) => ({ url: b.url, eventTypes: b.eventTypes ?? [], enabled: b.enabled === 'on', comment: b.comment ?? '' });

  app.get('/control/webhooks', { config: { permission: 'organizer.settings' } }, async (req, reply) => listPage(req, reply));

  app.post<{ Body: EndpointForm }>('/control/webhooks', { config: { permission: 'organizer.settings' }, schema: { body: endpointBody }, attachValidation: true }, async (req, reply) => {
    if (req.validationError) return listPage(req, reply.code(400), { values: req.body ?? {}, errors: fieldErrors(req.validationError) });
    try {
      const created = await service.create(userOf(req).organizerId, input(req.body));
      // The secret is shown on this answer only.
      reply.header('cache-control', 'no-store');
      return listPage(req, reply.code(201), { created });
    } catch (err) {
      const r = formRefusal(err);
      return listPage(req, reply.code(r.status), { values: input(req.body), errors: r.errors });
    }
  });

  const detailPage = async (req: FastifyRequest, reply: FastifyReply, endpointId: string, extra: { values?: Record<string, unknown>; errors?: Record<string, string>; secret?: string } = {}) => {
    const { organizerId } = userOf(req);
    const endpoint = await service.get(organizerId, endpointId);
    const deliveries = await service.deliveries(organizerId, endpoint.id, 1, 100);
    return renderPage(req, reply, 'webhook', {
      title: 'Webhook', section: 'webhooks', endpoint, deliveries, eventTypes: webhookEventTypes, eventTypeLabels,
      values: extra.values ?? { url: endpoint.url, eventTypes: endpoint.eventTypes, enabled: endpoint.enabled, comment: endpoint.comment },
      errors: extra.errors ?? {}, secret: extra.secret, canRetry: !!webhooks.enqueue,
    });
  };

  app.get<{ Params: { webhookId: string } }>('/control/webhooks/:webhookId', { config: { permission: 'organizer.settings' }, schema: { params: idParams('webhookId') } }, async (req, reply) =>
    detailPage(req, reply, req.params.webhookId));

  app.post<{ Params: { webhookId: string }; Body: EndpointForm }>('/control/webhooks/:webhookId', { config: { permission: 'organizer.settings' },
    schema: { params: idParams('webhookId'), body: endpointBody }, attachValidation: true,
  }, async (req, reply) => {
    const { organizerId } = userOf(req);
    await service.get(organizerId, req.params.webhookId);
    if (req.validationError) return detailPage(req, reply.code(400), req.params.webhookId, { values: req.body ?? {}, errors: fieldErrors(req.validationError) });
    try {
      await service.update(organizerId, req.params.webhookId, input(req.body));
      return redirectWithFlash(req, reply, `/control/webhooks/${req.params.webhookId}`, 'Webhook saved.');
    } catch (err) {
      const r = formRefusal(err);
      return detailPage(req, reply.code(r.status), req.params.webhookId, { values: input(req.body), errors: r.errors });
    }
  });

  app.post<{ Params: { webhookId: string } }>('/control/webhooks/:webhookId/rotate', { config: { permission: 'organizer.settings' }, schema: { params: idParams('webhookId'), body: csrfOnly } }, async (req, reply) => {
    const { secret } = await service.rotateSecret(userOf(req).organizerId, req.params.webhookId);
    reply.header('cache-control', 'no-store');
    return detailPage(req, reply, req.params.webhookId, { secret });
  });

  app.post<{ Params: { webhookId: string } }>('/control/webhooks/:webhookId/delete', { config: { permission: 'organizer.settings' }, schema: { params: idParams('webhookId'), body: csrfOnly } }, async (req, reply) => {
    await service.remove(userOf(req).organizerId, req.params.webhookId);
    return redirectWithFlash(req, reply, '/control/webhooks', 'Webhook deleted.');
  });

  app.post<{ Params: { webhookId: string } }>('/control/webhooks/:webhookId/ping', { config: { permission: 'organizer.settings' }, schema: { params: idParams('webhookId'), body: csrfOnly } }, async (req, reply) => {
    const { organizerId } = userOf(req);
    await service.get(organizerId, req.params.webhookId);
    if (!webhooks.enqueue) throw new KassaError('NOT_FOUND', { entity: 'Job runtime' });
    const ping = await service.ping(organizerId, req.params.webhookId);
    await webhooks.enqueue([{ id: ping.id, organizerId }]);
    return redirectWithFlash(req, reply, `/control/webhooks/${req.params.webhookId}/deliveries/${ping.id}`, 'Test ping queued: this page shows the answer once it is sent.');
  });

  const ownDelivery = async (req: FastifyRequest<{ Params: { webhookId: string; deliveryId: string } }>) => {
    const delivery = await service.delivery(userOf(req).organizerId, req.params.deliveryId);
    if (delivery.endpointId !== req.params.webhookId) throw new KassaError('NOT_FOUND', { entity: 'Webhook delivery' });
    return delivery;
  };

  app.get<{ Params: { webhookId: string; deliveryId: string } }>('/control/webhooks/:webhookId/deliveries/:deliveryId', { config: { permission: 'organizer.settings' },
    schema: { params: idParams('webhookId', 'deliveryId') },
  }, async (req, reply) => {
    const delivery = await ownDelivery(req);
    const endpoint = await service.get(userOf(req).organizerId, req.params.webhookId);
    return renderPage(req, reply, 'webhook-delivery', {
      title: 'Webhook delivery', section: 'webhooks', endpoint, delivery, payload: JSON.stringify(delivery.payload, null, 2), canRetry: !!webhooks.enqueue,
    });
  });

  app.post<{ Params: { webhookId: string; deliveryId: string } }>('/control/webhooks/:webhookId/deliveries/:deliveryId/retry', { config: { permission: 'organizer.settings' },
    schema: { params: idParams('webhookId', 'deliveryId'), body: csrfOnly },
  }, async (req, reply) => {
    const delivery = await ownDelivery(req);
    if (!webhooks.enqueue) throw new KassaError('NOT_FOUND', { entity: 'Job runtime' });
    const queued = await service.requeue(userOf(req).organizerId, delivery.id);
    await webhooks.enqueue([{ id: queued.id, organizerId: userOf(req).organizerId }], queued.attempts);
    return redirectWithFlash(req, reply, `/control/webhooks/${req.params.webhookId}/deliveries/${delivery.id}`, 'Delivery queued again.');
  });
};
