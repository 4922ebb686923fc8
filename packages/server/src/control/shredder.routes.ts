import type { FastifyPluginAsync } from 'fastify';
import { CatalogStore, KassaError, readableEventLog, shredPreview } from '@kassa/core/host';
import { logLocaleOf } from '../infra/readable-log';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { BulkTasks } from '../bulk/bulk-tasks.service';
import { actorOf, formKeyProperty, idParams, newFormKey, redirectWithFlash, renderPage, requireAdmin, userOf, uuid } from './page';

const target = {
  type: 'object',
  properties: { eventId: uuid, orderId: uuid },
  additionalProperties: false,
} as const;

const confirmBody = {
  type: 'object',
  required: ['confirm'],
  properties: { _csrf: { type: 'string' }, ...formKeyProperty, eventId: uuid, orderId: uuid, confirm: { type: 'string', enum: ['yes'] } },
  additionalProperties: false,
} as const;

interface Target { eventId?: string; orderId?: string }

/**
 * pretix's data shredder: choose an event (or come from an order), see what would be removed, confirm,
 * and watch the job. For admins only; everyone else, and every other organizer's id, gets 404.
 */
export const shredderRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  const tasks = new BulkTasks(deps, scope);
  const catalog = new CatalogStore(deps.dataSource);
  app.addHook('preHandler', async (req) => requireAdmin(req));

  app.get<{ Querystring: Target }>('/control/shredder', { config: { permission: 'event.orders.change', permissionOnAllEvents: true }, schema: { querystring: target } }, async (req, reply) => {
    const { organizerId } = userOf(req);
    const [events, recent] = await Promise.all([catalog.listEvents(organizerId), tasks.store.list(organizerId, 'shred', 10)]);
    const chosen = req.query.orderId || req.query.eventId ? await tasks.shredTarget(organizerId, req.query) : null;
    const preview = chosen ? await shredPreview(deps.dataSource, { organizerId, ...chosen }) : null;
    // An event's own log: earlier shredder runs over it (who, when, how many orders).
    const event = chosen?.eventId ? events.find((e) => e.id === chosen.eventId) : undefined;
    const eventLog = event
      ? await readableEventLog(deps.dataSource, { organizerId, eventId: event.id, currency: event.currency, locale: logLocaleOf(req.headers['accept-language']) })
      : [];
    return renderPage(req, reply, 'shredder', { title: 'Data shredder', section: 'shredder', events, recent, chosen, preview, eventLog, errors: {}, formKey: newFormKey() });
  });

  app.post<{ Body: Target & { confirm: string } }>('/control/shredder', { config: { permission: 'event.orders.change', permissionOnAllEvents: true }, schema: { body: confirmBody }, attachValidation: true }, async (req, reply) => {
    const { organizerId } = userOf(req);
    const body = (req.body ?? {}) as Target;
    if (req.validationError) {
      // Unconfirmed (or malformed): show the preview again with the reason beside the checkbox; nothing is removed.
      const chosen = body.orderId || body.eventId ? await tasks.shredTarget(organizerId, body).catch(() => null) : null;
      const preview = chosen ? await shredPreview(deps.dataSource, { organizerId, ...chosen }) : null;
      const events = await catalog.listEvents(organizerId);
      return renderPage(req, reply.code(400), 'shredder', {
        title: 'Data shredder', section: 'shredder', events, recent: [], chosen, preview, eventLog: [], formKey: newFormKey(),
        errors: { confirm: 'Tick the box to confirm that the personal data shall be removed for good' },
      });
    }
    const { _formKey: formKey, ...target } = req.body as Target & { _formKey?: string };
    const task = await tasks.startShred(organizerId, { eventId: target.eventId, orderId: target.orderId }, actorOf(req), formKey);
    return redirectWithFlash(req, reply, `/control/shredder/${task.id}`, 'Data shredder started.');
  });

  app.get<{ Params: { taskId: string } }>('/control/shredder/:taskId', { config: { permission: 'event.orders.change', permissionOnAllEvents: true }, schema: { params: idParams('taskId') } }, async (req, reply) => {
    const task = await tasks.store.get(userOf(req).organizerId, req.params.taskId, 'shred');
    if (!task) throw new KassaError('NOT_FOUND', { entity: 'Shred' });
    return renderPage(req, reply, 'task', { title: 'Data shredder', section: 'shredder', task, headScripts: ['/static/kassa-progress.js'] });
  });
};
