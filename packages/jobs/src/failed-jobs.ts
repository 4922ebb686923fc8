import { KassaError, organizersOfEmails, organizersOfOrders, organizersOfOutboxEvents, type DataSource } from '@kassa/core/host';
import type { Job, Queue } from 'bullmq';
import { queueNames, type QueueKey } from './queues';

/** A job that used up its attempts (or failed permanently), as the control panel lists it. */
export interface FailedJob {
  readonly queue: QueueKey;
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  /** The organizer the job concerns; null for instance-wide jobs (maintenance, schedulers, webhooks). */
  readonly organizerId: string | null;
  /** The last error message, naming the handler that failed for event jobs. */
  readonly failedReason: string;
  readonly attemptsMade: number;
  readonly failedAt: Date | null;
  readonly stacktrace: readonly string[];
}

/**
 * Who is looking: an organizer's admin sees the jobs of that organizer, an instance operator also
 * the instance-wide ones. Nobody sees another organizer's jobs here.
 */
export interface JobViewer {
  /** The organizer whose jobs are visible; null for none. */
  readonly organizerId: string | null;
  /** Instance operator (`app_user.is_operator`): also sees instance-wide jobs. */
  readonly operator: boolean;
}

export interface FailedJobsQuery {
  /** One queue, or all of them. */
  queue?: QueueKey;
  /** Per queue; default 50. */
  limit?: number;
  /** Only the jobs this viewer may see; without it every job (the worker's own tools, tests). */
  viewer?: JobViewer;
}

/** BullMQ's own name for the state of a job that used up its attempts (not one of Kassa's states). */
const BULLMQ_FAILED = 'failed' as const;

/** Failed jobs read per call to the backend while looking for a viewer's own. */
const PAGE = 200;
/** How deep a viewer's list looks into each queue's failures: other organizers' failures cannot make it scan forever. */
const SCAN_LIMIT = 5_000;

/** Newest failures first, per queue; with a viewer, only the jobs it may see. */
export async function listFailedJobs(queues: Readonly<Record<QueueKey, Queue>>, ds: DataSource, q: FailedJobsQuery = {}): Promise<FailedJob[]> {
  const keys = q.queue ? [assertQueueKey(q.queue)] : (Object.keys(queueNames) as QueueKey[]);
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 1000);
  const out: FailedJob[] = [];
  for (const key of keys) {
    const found: FailedJob[] = [];
    for (let start = 0; found.length < limit && start < SCAN_LIMIT; start += PAGE) {
      const page = (await queues[key].getFailed(start, start + PAGE - 1)).filter((j): j is Job => !!j?.id);
      const scoped = await withScopes(ds, key, page);
      found.push(...scoped.filter((j) => !q.viewer || maySee(q.viewer, j)));
      if (page.length < PAGE) break;
    }
    out.push(...found.slice(0, limit));
  }
  return out.sort((a, b) => (b.failedAt?.getTime() ?? 0) - (a.failedAt?.getTime() ?? 0));
}

/**
 * Moves a failed job back to waiting with fresh attempts. A job the viewer may not see is
 * NOT_FOUND (as if it did not exist); one that is not failed is JOB_NOT_FAILED.
 */
export async function retryJob(queues: Readonly<Record<QueueKey, Queue>>, ds: DataSource, queue: QueueKey, id: string, viewer?: JobViewer): Promise<void> {
  const key = assertQueueKey(queue);
  const job = await queues[key].getJob(id);
  const [scoped] = job ? await withScopes(ds, key, [job]) : [];
  if (!job || !scoped || (viewer && !maySee(viewer, scoped))) throw new KassaError('NOT_FOUND', { entity: `Job ${id} in queue ${queue}` });
  const state = await job.getState();
  if (state !== BULLMQ_FAILED) throw new KassaError('JOB_NOT_FAILED', { id, queue, state });
  await job.retry(BULLMQ_FAILED, { resetAttemptsMade: true, resetAttemptsStarted: true });
}

function maySee(viewer: JobViewer, job: FailedJob): boolean {
  return job.organizerId === null ? viewer.operator : job.organizerId === viewer.organizerId;
}

/**
 * Which organizer each job concerns, read from our own rows rather than from what the job says
 * about itself where a row exists: an event job by its outbox event (or order), an email job by
 * its email; a plugin job carries the organizer its host set when it was enqueued; maintenance
 * jobs are the instance's unless they name an outbox event (then they are that event's).
 */
async function withScopes(ds: DataSource, queue: QueueKey, jobs: readonly Job[]): Promise<FailedJob[]> {
  const owners = await ownersOf(ds, queue, jobs.map((j) => (j.data ?? {}) as Record<string, unknown>));
  return jobs.map((job, i) => ({
    queue, id: job.id!, name: job.name, data: job.data, organizerId: owners[i] ?? null,
    failedReason: job.failedReason ?? '', attemptsMade: job.attemptsMade,
    failedAt: job.finishedOn ? new Date(job.finishedOn) : null, stacktrace: job.stacktrace ?? [],
  }));
}

async function ownersOf(ds: DataSource, queue: QueueKey, data: readonly Record<string, unknown>[]): Promise<(string | null)[]> {
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 100 ? v : null);
  if (queue === 'plugins' || queue === 'tasks') return data.map((d) => str(d.organizerId));
  // A webhook delivery carries its organizer, copied from the delivery row when it was enqueued.
  if (queue === 'webhooks') return data.map((d) => str(d.organizerId));
  // Maintenance jobs are the instance's, except one that names an outbox event (the delayed
  // action-required check): it belongs to that event's organizer, read below like an event job.
  if (queue === 'maintenance' && !data.some((d) => str(d.eventId))) return data.map(() => null);
  if (queue === 'emails') {
    const byId = await organizersOfEmails(ds, uniq(data.map((d) => str(d.emailId))));
    return data.map((d) => byId.get(str(d.emailId) ?? '') ?? null);
  }
  // events (and maintenance jobs naming one): the outbox row names its organizer (or its order
  // does); a job whose row is gone falls back to the order it names; a job naming neither is the
  // instance's. A job for several events (deliver-events) is an organizer's only when all of them
  // are that organizer's; otherwise the instance's (its failure is the database's or the queue's,
  // never one handler's: a failing event goes on in a job of its own).
  const isEventId = (id: string | null): id is string => id !== null && /^\d{1,18}$/.test(id);
  const eventsOf = (d: Record<string, unknown>): string[] | null =>
    (Array.isArray(d.eventIds) ? d.eventIds.slice(0, 1_000).map(str).filter(isEventId) : null);
  const eventIds = uniq(data.flatMap((d) => eventsOf(d) ?? [str(d.eventId)]).filter(isEventId));
  const byEvent = await organizersOfOutboxEvents(ds, eventIds);
  const byOrder = await organizersOfOrders(ds, uniq(data.map((d) => str(d.orderId))));
  return data.map((d) => {
    const batch = eventsOf(d);
    if (batch) {
      const owners = new Set(batch.map((id) => byEvent.get(id) ?? null));
      return owners.size === 1 ? [...owners][0]! : null;
    }
    return byEvent.get(str(d.eventId) ?? '') ?? byOrder.get(str(d.orderId) ?? '') ?? null;
  });
}

function uniq(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))];
}

function assertQueueKey(queue: string): QueueKey {
  if (!Object.hasOwn(queueNames, queue)) throw new KassaError('JOB_QUEUE_UNKNOWN', { queue, known: Object.keys(queueNames).join(', ') });
  return queue as QueueKey;
}
