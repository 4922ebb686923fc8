import type { FastifyPluginAsync } from 'fastify';
import { KassaError, exportDatasets, shredPreview, type ExportDataset } from '@kassa/core/host';
import type { AppDeps } from '../../deps';
import type { OrganizerScope } from '../../auth/scope';
import { BulkTasks } from '../../bulk/bulk-tasks.service';
import { exportFormats, type ExportFormat } from '../../bulk/export-writer';
import { taskJson } from '../../bulk/task-json';
import { sendTaskFile } from '../../control/exports.routes';
import { apiActor, principalOf } from '../principal';
import { errorResponses, uuidSchema } from './schemas';

const taskParams = { type: 'object', required: ['taskId'], properties: { taskId: uuidSchema } } as const;
const taskResponse = { type: 'object', properties: { task: { $ref: 'Task#' } } } as const;
const shredTarget = {
  type: 'object',
  properties: {
    eventId: { ...uuidSchema, description: 'Shred every order of this event' },
    orderId: { ...uuidSchema, description: 'Shred this order only' },
  },
  additionalProperties: false,
} as const;

/**
 * Exports and the data shredder through the API: start a task, poll it, download an export's file.
 * Tasks are the token's organizer's; another organizer's id is 404 like a missing one.
 */
export const exportApiRoutes: FastifyPluginAsync<{ deps: AppDeps; scope: OrganizerScope }> = async (app, { deps, scope }) => {
  const tasks = new BulkTasks(deps, scope);

  app.post<{ Body: { dataset: ExportDataset; format: ExportFormat; eventId?: string | null } }>('/exports', {
    config: { permission: 'event.orders.view', permissionOnAllEvents: true },
    schema: {
      summary: 'Start an export of orders, payments or refunds', tags: ['exports'],
      description: 'Runs as a job; poll `GET /api/v1/tasks/{id}` until `status` is `finished`, then download `task.file.url`. '
        + 'Money columns are decimal text in the currency\'s exponent. Without `eventId`, all of the organizer\'s events.',
      body: {
        type: 'object', required: ['dataset', 'format'], additionalProperties: false,
        properties: {
          dataset: { type: 'string', enum: [...exportDatasets] },
          format: { type: 'string', enum: [...exportFormats] },
          eventId: { ...uuidSchema, nullable: true },
        },
      },
      response: { 202: taskResponse, ...errorResponses, 503: { $ref: 'Error#' } },
    },
  }, async (req, reply) => {
    const task = await tasks.startExport(principalOf(req).organizerId, req.body, apiActor(req));
    return reply.code(202).send({ task: taskJson(task, '/api/v1') });
  });

  app.get<{ Params: { taskId: string } }>('/tasks/:taskId', {
    config: { permission: 'event.orders.view', permissionOnAllEvents: true },
    schema: { summary: 'An export or shred task with its progress', tags: ['exports'], params: taskParams, response: { 200: taskResponse, ...errorResponses } },
  }, async (req) => {
    const task = await tasks.store.get(principalOf(req).organizerId, req.params.taskId);
    if (!task) throw new KassaError('NOT_FOUND', { entity: 'Task' });
    return { task: taskJson(task, '/api/v1') };
  });

  app.get<{ Params: { taskId: string } }>('/exports/:taskId/download', {
    config: { permission: 'event.orders.view', permissionOnAllEvents: true },
    schema: {
      summary: "Download a finished export's file", tags: ['exports'], params: taskParams,
      description: 'CSV (UTF-8 with BOM) or xlsx; 409 BULK_TASK_NOT_READY while the export runs.',
      response: { 200: { type: 'string', format: 'binary' }, ...errorResponses },
    },
  }, async (req, reply) => {
    const task = await tasks.store.get(principalOf(req).organizerId, req.params.taskId, 'export');
    if (!task) throw new KassaError('NOT_FOUND', { entity: 'Export' });
    return sendTaskFile(reply, tasks, task);
  });

  app.get<{ Querystring: { eventId?: string; orderId?: string } }>('/shredder/preview', {
    config: { permission: 'event.orders.change', permissionOnAllEvents: true },
    schema: {
      summary: 'What the data shredder would remove', tags: ['shredder'], querystring: shredTarget,
      response: {
        200: {
          type: 'object',
          properties: {
            orders: { type: 'integer' }, emails: { type: 'integer' }, attendeeNames: { type: 'integer' },
            payments: { type: 'integer' }, refunds: { type: 'integer' }, alreadyShredded: { type: 'integer' },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => {
    const { organizerId } = principalOf(req);
    const target = await tasks.shredTarget(organizerId, req.query);
    return shredPreview(deps.dataSource, { organizerId, ...target });
  });

  app.post<{ Body: { eventId?: string; orderId?: string; confirm: boolean } }>('/shredder', {
    config: { permission: 'event.orders.change', permissionOnAllEvents: true },
    schema: {
      summary: "Shred an order's or an event's personal data", tags: ['shredder'],
      description: 'pretix\'s data shredder. Removes buyer emails, attendee names and what each payment provider marks as personal in payment and refund details; '
        + 'amounts, states and provider references stay, and each order\'s log records the shred with this token as the actor. `confirm` must be `true`. Runs as a job (poll the task).',
      body: { ...shredTarget, required: ['confirm'], properties: { ...shredTarget.properties, confirm: { type: 'boolean', enum: [true] } } },
      response: { 202: taskResponse, ...errorResponses, 503: { $ref: 'Error#' } },
    },
  }, async (req, reply) => {
    const { confirm: _confirm, ...target } = req.body;
    const task = await tasks.startShred(principalOf(req).organizerId, target, apiActor(req));
    return reply.code(202).send({ task: taskJson(task, '/api/v1') });
  });
};
