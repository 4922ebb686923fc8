import type { FastifyPluginAsync } from 'fastify';
import { CatalogStore, KassaError, readableEventLog, shredPreview } from '@kassa/core/host';
import { logLocaleOf } from '../infra/readable-log';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { BulkTasks } from '../bulk/bulk-tasks.service';
import { actorOf, fieldErrors, formKeyProperty, formRefusal, idParams, newFormKey, redirectWithFlash, renderPage, requireAdmin, userOf, uuid } from './page';

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

/** The form's own fields, as the page sends them; anything else here was altered on the way. */
const hiddenFieldProblems: Record<string, string> = {
  _formKey: "The form's one-time key (_formKey) is not the one this page sent: reload the page and confirm again",
  eventId: 'The event (eventId) is not one the page offered: choose the event again',
  orderId: 'The order (orderId) is not one the page offered: open the shredder from the order again',
};

/** Field errors of a shredder confirmation for the page: the checkbox beside it, a hidden field above the form by name. */
function shredFormErrors(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(errors)) {
    if (field === 'confirm') out.confirm = 'Tick the box to confirm that the personal data shall be removed for good';
    else out.form ??= hiddenFieldProblems[field] ?? (field === 'form' ? message : `${field} ${message}`);
  }
  return out;
}

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
    // Unconfirmed, or a hidden field the page did not send like this: the preview again with the
    // reason (beside the checkbox, or above the form naming the field); nothing is removed.
    const refuse = async (errors: Record<string, string>, status = 400) => {
      const chosen = body.orderId || body.eventId ? await tasks.shredTarget(organizerId, body).catch(() => null) : null;
      const preview = chosen ? await shredPreview(deps.dataSource, { organizerId, ...chosen }) : null;
      const events = await catalog.listEvents(organizerId);
      return renderPage(req, reply.code(status), 'shredder', {
        title: 'Data shredder', section: 'shredder', events, recent: [], chosen, preview, eventLog: [], formKey: newFormKey(), errors,
      });
    };
    if (req.validationError) return refuse(shredFormErrors(fieldErrors(req.validationError)));
    const { _formKey: formKey, ...target } = req.body as Target & { _formKey?: string };
    try {
      const task = await tasks.startShred(organizerId, { eventId: target.eventId, orderId: target.orderId }, actorOf(req), formKey);
      return redirectWithFlash(req, reply, `/control/shredder/${task.id}`, 'Data shredder started.');
    } catch (err) {
      const { status, errors } = formRefusal(err);
      return refuse(shredFormErrors(errors), status);
    }
  });

  app.get<{ Params: { taskId: string } }>('/control/shredder/:taskId', { config: { permission: 'event.orders.change', permissionOnAllEvents: true }, schema: { params: idParams('taskId') } }, async (req, reply) => {
    const task = await tasks.store.get(userOf(req).organizerId, req.params.taskId, 'shred');
    if (!task) throw new KassaError('NOT_FOUND', { entity: 'Shred' });
    return renderPage(req, reply, 'task', { title: 'Data shredder', section: 'shredder', task, headScripts: ['/static/kassa-progress.js'] });
  });
};
