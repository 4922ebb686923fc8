import type { BulkTask } from './bulk-task.store';

/** A task as the control panel's progress poll and the API show it. `base`: where its file is downloaded. */
export function taskJson(task: BulkTask, base: '/control' | '/api/v1') {
  const file = task.kind === 'export' && task.status === 'finished'
    ? { fileName: task.fileName, contentType: task.contentType, byteSize: task.byteSize, url: `${base}/exports/${task.id}/download` }
    : null;
  return {
    id: task.id,
    kind: task.kind,
    status: task.status,
    done: task.done,
    total: task.total,
    params: task.params,
    error: task.error,
    file,
    createdAt: task.createdAt.toISOString(),
    finishedAt: task.finishedAt ? task.finishedAt.toISOString() : null,
  };
}

/** The task's JSON Schema for the OpenAPI document. */
export const taskSchema = {
  $id: 'Task',
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    kind: { type: 'string', enum: ['export', 'shred'] },
    status: { type: 'string', enum: ['queued', 'running', 'finished', 'error', 'removed'], description: '`removed`: the export\'s file was removed (kept 7 days; removed at once by the data shredder)' },
    done: { type: 'integer', description: 'Rows written (export) or orders shredded so far' },
    total: { type: ['integer', 'null'], description: 'Rows or orders in all, once the job has counted them' },
    params: { type: 'object', additionalProperties: true },
    error: { type: ['string', 'null'] },
    file: {
      type: ['object', 'null'],
      properties: { fileName: { type: 'string' }, contentType: { type: 'string' }, byteSize: { type: 'integer' }, url: { type: 'string' } },
    },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;
