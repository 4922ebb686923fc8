import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CatalogStore, KassaError, exportDatasets, type ExportDataset } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { BulkTasks } from '../bulk/bulk-tasks.service';
import type { BulkTask, BulkTaskKind } from '../bulk/bulk-task.store';
import { exportFormats, type ExportFormat } from '../bulk/export-writer';
import { taskJson } from '../bulk/task-json';
import { actorOf, fieldErrors, formKeyProperty, formRefusal, idParams, newFormKey, redirectWithFlash, renderPage, requireAdmin, userOf } from './page';

const exportBody = {
  type: 'object',
  required: ['dataset', 'format'],
  properties: {
    _csrf: { type: 'string' },
    ...formKeyProperty,
    dataset: { type: 'string', enum: [...exportDatasets] },
    format: { type: 'string', enum: [...exportFormats] },
    // Empty: all of the organizer's events.
    eventId: { type: 'string', pattern: '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$' },
  },
  additionalProperties: false,
} as const;

type ExportBody = { dataset: ExportDataset; format: ExportFormat; eventId?: string; _formKey?: string };

/** The progress script polls the task's status and reloads the page once it has finished. */
const progressScripts = ['/static/kassa-progress.js'];

/**
 * Exports (orders, payments, refunds as CSV or xlsx): the form, the organizer's recent exports, a
 * progress page per export and its download. Every id is looked up within the user's organizer.
 * The status of any task (export or shred) for the progress script is here as well.
 */
export const exportRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  const tasks = new BulkTasks(deps, scope);
  const catalog = new CatalogStore(deps.dataSource);

  const showForm = async (req: FastifyRequest, reply: FastifyReply, values: Record<string, unknown>, errors: Record<string, string>) => {
    const { organizerId } = userOf(req);
    const [events, recent] = await Promise.all([catalog.listEvents(organizerId), tasks.store.list(organizerId, 'export')]);
    return renderPage(req, reply, 'exports', {
      title: 'Exports', section: 'exports', events, recent, values, errors, datasets: exportDatasets, formats: exportFormats, formKey: newFormKey(),
    });
  };

  app.get<{ Querystring: { eventId?: string } }>('/control/exports', {
    config: { permission: 'event.orders.view', permissionOnAllEvents: true },
    schema: { querystring: { type: 'object', properties: { eventId: exportBody.properties.eventId } } },
  }, async (req, reply) => showForm(req, reply, { dataset: 'orders', format: 'xlsx', eventId: req.query.eventId ?? '' }, {}));

  app.post<{ Body: ExportBody }>('/control/exports', { config: { permission: 'event.orders.view', permissionOnAllEvents: true }, schema: { body: exportBody }, attachValidation: true }, async (req, reply) => {
    if (req.validationError) return showForm(req, reply.code(400), req.body ?? {}, fieldErrors(req.validationError));
    try {
      const { _formKey: formKey, ...input } = req.body;
      const task = await tasks.startExport(userOf(req).organizerId, { ...input, eventId: input.eventId || null }, actorOf(req), formKey);
      return redirectWithFlash(req, reply, `/control/exports/${task.id}`, 'Export started.');
    } catch (err) {
      if (err instanceof KassaError && err.code === 'NOT_FOUND') return showForm(req, reply.code(400), req.body, { eventId: 'is not one of your events' });
      const r = formRefusal(err);
      return showForm(req, reply.code(r.status), req.body, r.errors);
    }
  });

  const taskOr404 = async (req: FastifyRequest, id: string, kind?: BulkTaskKind): Promise<BulkTask> => {
    const task = await tasks.store.get(userOf(req).organizerId, id, kind);
    if (!task) throw new KassaError('NOT_FOUND', { entity: kind === 'shred' ? 'Shred' : kind === 'export' ? 'Export' : 'Task' });
    // The shredder is for admins: a member learns nothing of its tasks, not even that they exist.
    if (task.kind === 'shred') requireAdmin(req);
    return task;
  };

  app.get<{ Params: { taskId: string } }>('/control/exports/:taskId', { config: { permission: 'event.orders.view', permissionOnAllEvents: true }, schema: { params: idParams('taskId') } }, async (req, reply) => {
    const task = await taskOr404(req, req.params.taskId, 'export');
    return renderPage(req, reply, 'task', { title: 'Export', section: 'exports', task, headScripts: progressScripts });
  });

  app.get<{ Params: { taskId: string } }>('/control/exports/:taskId/download', { config: { permission: 'event.orders.view', permissionOnAllEvents: true }, schema: { params: idParams('taskId') } }, async (req, reply) => {
    const task = await taskOr404(req, req.params.taskId, 'export');
    return sendTaskFile(reply, tasks, task);
  });

  app.get<{ Params: { taskId: string } }>('/control/tasks/:taskId/status', { config: { permission: 'event.orders.view', permissionOnAllEvents: true }, schema: { params: idParams('taskId') } }, async (req, reply) => {
    const task = await taskOr404(req, req.params.taskId);
    return reply.header('cache-control', 'no-store').send(taskJson(task, '/control'));
  });
};

/** Streams an export's stored file as a download; 409 until it has finished. */
export function sendTaskFile(reply: FastifyReply, tasks: BulkTasks, task: BulkTask): FastifyReply {
  if (task.status === 'removed') throw new KassaError('BULK_TASK_FILE_REMOVED', { id: task.id, reason: task.error ?? 'expired' });
  if (task.status !== 'finished' || !task.fileName) throw new KassaError('BULK_TASK_NOT_READY', { id: task.id, status: task.status });
  return reply
    .header('content-disposition', `attachment; filename="${task.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
    .header('cache-control', 'private, no-store')
    .header('content-length', String(task.byteSize ?? 0))
    .type(task.contentType ?? 'application/octet-stream')
    .send(tasks.store.fileStream(task.id));
}
