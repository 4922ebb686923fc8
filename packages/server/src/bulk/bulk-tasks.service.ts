import { KassaError, type Actor, type ExportDataset } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import type { OrganizerScope } from '../auth/scope';
import { bulkJobNames } from './bulk-jobs';
import { BulkTaskStore, type BulkTask } from './bulk-task.store';
import type { ExportParams } from './export-runner';
import type { ExportFormat } from './export-writer';
import type { ShredParams } from './shred-runner';

/**
 * Starting exports and shreds for the control panel and the API: checks that the event or order is
 * the organizer's (404 otherwise), stores the task, enqueues its job (job id = task id, so a
 * repeated enqueue is one job).
 */
export class BulkTasks {
  readonly store: BulkTaskStore;

  constructor(private readonly deps: AppDeps, private readonly scope: OrganizerScope) {
    this.store = new BulkTaskStore(deps.dataSource);
  }

  /** `formKey`: the control panel's one-time form key; the same key again answers the task it started. */
  async startExport(organizerId: string, input: { dataset: ExportDataset; format: ExportFormat; eventId?: string | null }, actor: Actor, formKey?: string): Promise<BulkTask> {
    const event = input.eventId ? await this.scope.event(organizerId, input.eventId) : null;
    const params: ExportParams = { dataset: input.dataset, format: input.format, eventId: event?.id ?? null, eventSlug: event?.slug ?? null };
    return this.enqueue(organizerId, 'export', params as unknown as Record<string, unknown>, actor, formKey);
  }

  async startShred(organizerId: string, target: { eventId?: string | null; orderId?: string | null }, actor: Actor, formKey?: string): Promise<BulkTask> {
    return this.enqueue(organizerId, 'shred', (await this.shredTarget(organizerId, target)) as unknown as Record<string, unknown>, actor, formKey);
  }

  /** The order or event a shred names, checked to be the organizer's; exactly one of them. */
  async shredTarget(organizerId: string, target: { eventId?: string | null; orderId?: string | null }): Promise<ShredParams> {
    if (target.orderId) {
      const order = await this.scope.order(organizerId, target.orderId);
      return { eventId: null, orderId: order.id, label: order.code };
    }
    if (target.eventId) {
      const event = await this.scope.event(organizerId, target.eventId);
      return { eventId: event.id, orderId: null, label: event.slug };
    }
    throw new KassaError('VALIDATION_FAILED', { field: 'eventId', detail: 'eventId or orderId is required' });
  }

  private async enqueue(organizerId: string, kind: 'export' | 'shred', params: Record<string, unknown>, actor: Actor, formKey?: string): Promise<BulkTask> {
    const enqueue = this.deps.enqueueHostJob;
    if (!enqueue) throw new KassaError('BULK_TASKS_UNAVAILABLE');
    const { task, created } = await this.store.create(organizerId, kind, params, actor, this.deps.clock.now(), formKey);
    // A double-clicked form: the first submit's task, enqueued once (its job id is the task id anyway).
    if (!created) {
      // The same key with another form or target is not a double click but an altered form: starting
      // nothing and answering the first task would tell the organizer a different run had started.
      const same = task.kind === kind && Object.entries(params).every(([k, v]) => task.params[k] === v);
      if (!same) throw new KassaError('VALIDATION_FAILED', { field: '_formKey', detail: '_formKey was used by another form' });
      return task;
    }
    try {
      await enqueue(bulkJobNames[kind], { taskId: task.id }, { jobId: task.id, organizerId });
    } catch (err) {
      // Not left "queued" for ever: the page shows why, and the organizer starts it again.
      await this.store.fail(task.id, this.deps.clock.now(), `could not be queued: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    return task;
  }
}
