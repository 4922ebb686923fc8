import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parseMoney, type Event } from '@kassa/core/host';
import type { CatalogService, EventInput, ProductInput, QuotaInput } from './catalog.service';
import { fieldErrors, formRefusal, idParams, redirectWithFlash, renderPage, userOf, uuid } from './page';
import { toDecimalInput } from '../infra/format';

const eventBody = {
  type: 'object',
  required: ['name', 'slug', 'currency', 'paymentTermDays'],
  properties: {
    _csrf: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    slug: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    paymentTermDays: { type: 'integer', minimum: 0, maximum: 365 },
    paymentTermAcceptLate: { type: 'string', enum: ['on'] },
    // datetime-local, read as UTC like the order deadlines; empty: no last date.
    paymentTermLast: { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2})?$' },
    live: { type: 'string', enum: ['on'] },
  },
  additionalProperties: false,
} as const;

const productBody = {
  type: 'object',
  required: ['name', 'price'],
  properties: {
    _csrf: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    price: { type: 'string', minLength: 1, maxLength: 32 },
    position: { type: 'integer', minimum: 0, maximum: 100000, default: 0 },
    active: { type: 'string', enum: ['on'] },
  },
  additionalProperties: false,
} as const;

const quotaBody = {
  type: 'object',
  required: ['name'],
  properties: {
    _csrf: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    size: { type: 'string', pattern: '^[0-9]{0,9}$' },
    productIds: { type: 'array', items: uuid, maxItems: 500 },
  },
  additionalProperties: false,
} as const;

type Body = Record<string, string | string[] | number | undefined>;

function eventInput(body: Body): EventInput {
  return {
    name: String(body.name), slug: String(body.slug), currency: String(body.currency),
    paymentTermDays: Number(body.paymentTermDays), live: body.live === 'on',
    paymentTermAcceptLate: body.paymentTermAcceptLate === 'on',
    paymentTermLast: body.paymentTermLast ? new Date(`${String(body.paymentTermLast)}:00Z`) : null,
  };
}

/** The event as the form shows it: the last date of payments as a UTC datetime-local value. */
function eventFormValues(event: Event): Record<string, unknown> {
  return { ...event, paymentTermLast: event.paymentTermLast ? event.paymentTermLast.toISOString().slice(0, 16) : '' };
}

/** A re-shown form keeps the checkboxes as they were sent. */
function resubmitted(body: Body): Record<string, unknown> {
  return { ...body, live: body.live === 'on', paymentTermAcceptLate: body.paymentTermAcceptLate === 'on' };
}

function productInput(body: Body, event: Event): ProductInput {
  return {
    name: String(body.name),
    price: parseMoney(String(body.price), event.currency, { field: 'price' }).amount,
    position: Number(body.position ?? 0), active: body.active === 'on',
  };
}

function quotaInput(body: Body): QuotaInput {
  const size = String(body.size ?? '').trim();
  const ids = body.productIds === undefined ? [] : ([] as string[]).concat(body.productIds as string | string[]);
  return { name: String(body.name), size: size === '' ? null : Number(size), productIds: ids };
}

/** Events, products and quotas: list, create, edit. Every id is looked up within the user's organizer. */
export const eventRoutes: FastifyPluginAsync<{ catalog: CatalogService }> = async (app, { catalog }) => {
  const showEventForm = (req: FastifyRequest, reply: FastifyReply, values: Record<string, unknown>, errors: Record<string, string>, eventId?: string) =>
    renderPage(req, reply, 'event-form', { title: eventId ? 'Edit event' : 'New event', section: 'events', values, errors, eventId });

  app.get('/control/events', { config: { permission: 'member' } }, async (req, reply) => {
    const events = await catalog.listEvents(userOf(req).organizerId);
    return renderPage(req, reply, 'events', { title: 'Events', section: 'events', events });
  });

  app.get('/control/events/new', { config: { permission: 'organizer.events.create' } }, async (req, reply) =>
    showEventForm(req, reply, { currency: 'EUR', paymentTermDays: 14, paymentTermAcceptLate: true, paymentTermLast: '', live: true }, {}));

  app.post<{ Body: Body }>('/control/events', { config: { permission: 'organizer.events.create' }, schema: { body: eventBody }, attachValidation: true }, async (req, reply) => {
    if (req.validationError) return showEventForm(req, reply.code(400), req.body ?? {}, fieldErrors(req.validationError));
    try {
      const event = await catalog.createEvent(userOf(req).organizerId, eventInput(req.body));
      return redirectWithFlash(req, reply, `/control/events/${event.id}`, `Event ${event.name} created.`);
    } catch (err) {
      const r = formRefusal(err);
      return showEventForm(req, reply.code(r.status), resubmitted(req.body), r.errors);
    }
  });

  app.get<{ Params: { eventId: string } }>('/control/events/:eventId', { config: { permission: 'event.settings' }, schema: { params: idParams('eventId') } }, async (req, reply) => {
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    const [products, quotas] = await Promise.all([catalog.listProducts(event.organizerId, event.id), catalog.listQuotas(event.organizerId, event.id)]);
    return renderPage(req, reply, 'event', { title: event.name, section: 'events', event, products, quotas });
  });

  app.get<{ Params: { eventId: string } }>('/control/events/:eventId/edit', { config: { permission: 'event.settings' }, schema: { params: idParams('eventId') } }, async (req, reply) => {
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    return showEventForm(req, reply, eventFormValues(event), {}, event.id);
  });

  app.post<{ Params: { eventId: string }; Body: Body }>('/control/events/:eventId', {
    config: { permission: 'event.settings' },
    schema: { params: idParams('eventId'), body: eventBody }, attachValidation: true,
  }, async (req, reply) => {
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    if (req.validationError) return showEventForm(req, reply.code(400), req.body ?? {}, fieldErrors(req.validationError), event.id);
    try {
      await catalog.updateEvent(userOf(req).organizerId, event.id, eventInput(req.body));
      return redirectWithFlash(req, reply, `/control/events/${event.id}`, 'Event saved.');
    } catch (err) {
      const r = formRefusal(err);
      return showEventForm(req, reply.code(r.status), resubmitted(req.body), r.errors, event.id);
    }
  });

  // Products
  const showProductForm = (req: FastifyRequest, reply: FastifyReply, event: Event, values: Record<string, unknown>, errors: Record<string, string>, productId?: string) =>
    renderPage(req, reply, 'product-form', { title: productId ? 'Edit product' : 'New product', section: 'events', event, values, errors, productId });

  app.get<{ Params: { eventId: string } }>('/control/events/:eventId/products/new', { config: { permission: 'event.settings' }, schema: { params: idParams('eventId') } }, async (req, reply) => {
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    return showProductForm(req, reply, event, { active: true, position: 0, price: '' }, {});
  });

  app.post<{ Params: { eventId: string }; Body: Body }>('/control/events/:eventId/products', {
    config: { permission: 'event.settings' },
    schema: { params: idParams('eventId'), body: productBody }, attachValidation: true,
  }, async (req, reply) => {
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    if (req.validationError) return showProductForm(req, reply.code(400), event, req.body ?? {}, fieldErrors(req.validationError));
    try {
      const product = await catalog.createProduct(userOf(req).organizerId, event.id, productInput(req.body, event));
      return redirectWithFlash(req, reply, `/control/events/${event.id}`, `Product ${product.name} created.`);
    } catch (err) {
      const r = formRefusal(err);
      return showProductForm(req, reply.code(r.status), event, { ...req.body, active: req.body.active === 'on' }, r.errors);
    }
  });

  app.get<{ Params: { eventId: string; productId: string } }>('/control/events/:eventId/products/:productId/edit', {
    config: { permission: 'event.settings' },
    schema: { params: idParams('eventId', 'productId') },
  }, async (req, reply) => {
    const product = await catalog.getProduct(userOf(req).organizerId, req.params.eventId, req.params.productId);
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    return showProductForm(req, reply, event, { ...product, price: toDecimalInput(product.price, event.currency) }, {}, product.id);
  });

  app.post<{ Params: { eventId: string; productId: string }; Body: Body }>('/control/events/:eventId/products/:productId', {
    config: { permission: 'event.settings' },
    schema: { params: idParams('eventId', 'productId'), body: productBody }, attachValidation: true,
  }, async (req, reply) => {
    const product = await catalog.getProduct(userOf(req).organizerId, req.params.eventId, req.params.productId);
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    if (req.validationError) return showProductForm(req, reply.code(400), event, req.body ?? {}, fieldErrors(req.validationError), product.id);
    try {
      await catalog.updateProduct(userOf(req).organizerId, event.id, product.id, productInput(req.body, event));
      return redirectWithFlash(req, reply, `/control/events/${event.id}`, 'Product saved.');
    } catch (err) {
      const r = formRefusal(err);
      return showProductForm(req, reply.code(r.status), event, { ...req.body, active: req.body.active === 'on' }, r.errors, product.id);
    }
  });

  // Quotas
  const showQuotaForm = async (req: FastifyRequest, reply: FastifyReply, event: Event, values: Record<string, unknown>, errors: Record<string, string>, quotaId?: string) =>
    renderPage(req, reply, 'quota-form', {
      title: quotaId ? 'Edit quota' : 'New quota', section: 'events', event, values, errors, quotaId, products: await catalog.listProducts(event.organizerId, event.id),
    });

  app.get<{ Params: { eventId: string } }>('/control/events/:eventId/quotas/new', { config: { permission: 'event.settings' }, schema: { params: idParams('eventId') } }, async (req, reply) => {
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    return showQuotaForm(req, reply, event, { productIds: [] }, {});
  });

  app.post<{ Params: { eventId: string }; Body: Body }>('/control/events/:eventId/quotas', {
    config: { permission: 'event.settings' },
    schema: { params: idParams('eventId'), body: quotaBody }, attachValidation: true,
  }, async (req, reply) => {
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    if (req.validationError) return showQuotaForm(req, reply.code(400), event, { productIds: [], ...req.body }, fieldErrors(req.validationError));
    try {
      const quota = await catalog.createQuota(userOf(req).organizerId, event.id, quotaInput(req.body));
      return redirectWithFlash(req, reply, `/control/events/${event.id}`, `Quota ${quota.name} created.`);
    } catch (err) {
      const r = formRefusal(err);
      return showQuotaForm(req, reply.code(r.status), event, quotaInput(req.body) as unknown as Record<string, unknown>, r.errors);
    }
  });

  app.get<{ Params: { eventId: string; quotaId: string } }>('/control/events/:eventId/quotas/:quotaId/edit', {
    config: { permission: 'event.settings' },
    schema: { params: idParams('eventId', 'quotaId') },
  }, async (req, reply) => {
    const quota = await catalog.getQuota(userOf(req).organizerId, req.params.eventId, req.params.quotaId);
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    return showQuotaForm(req, reply, event, { name: quota.name, size: quota.size ?? '', productIds: (quota.products ?? []).map((p) => p.id) }, {}, quota.id);
  });

  app.post<{ Params: { eventId: string; quotaId: string }; Body: Body }>('/control/events/:eventId/quotas/:quotaId', {
    config: { permission: 'event.settings' },
    schema: { params: idParams('eventId', 'quotaId'), body: quotaBody }, attachValidation: true,
  }, async (req, reply) => {
    const quota = await catalog.getQuota(userOf(req).organizerId, req.params.eventId, req.params.quotaId);
    const event = await catalog.getEvent(userOf(req).organizerId, req.params.eventId);
    if (req.validationError) return showQuotaForm(req, reply.code(400), event, { productIds: [], ...req.body }, fieldErrors(req.validationError), quota.id);
    try {
      await catalog.updateQuota(userOf(req).organizerId, event.id, quota.id, quotaInput(req.body));
      return redirectWithFlash(req, reply, `/control/events/${event.id}`, 'Quota saved.');
    } catch (err) {
      const r = formRefusal(err);
      return showQuotaForm(req, reply.code(r.status), event, quotaInput(req.body) as unknown as Record<string, unknown>, r.errors, quota.id);
    }
  });
};
