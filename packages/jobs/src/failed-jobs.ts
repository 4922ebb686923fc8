import { KassaError } from '@kassa/core';
import type { Queue } from 'bullmq';
import { queueNames, type QueueKey } from './queues';

/** A job that used up its attempts (or failed permanently), as the control panel lists it. */
export interface FailedJob {
  readonly queue: QueueKey;
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  /** The last error message, naming the handler that failed for event jobs. */
  readonly failedReason: string;
  readonly attemptsMade: number;
  readonly failedAt: Date | null;
  readonly stacktrace: readonly string[];
}

export interface FailedJobsQuery {
  /** One queue, or all of them. */
  queue?: QueueKey;
  /** Per queue; default 50. */
  limit?: number;
}

/** Newest failures first, per queue. */
export async function listFailedJobs(queues: Readonly<Record<QueueKey, Queue>>, q: FailedJobsQuery = {}): Promise<FailedJob[]> {
  const keys = q.queue ? [assertQueueKey(q.queue)] : (Object.keys(queueNames) as QueueKey[]);
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 1000);
  const out: FailedJob[] = [];
  for (const key of keys) {
    const jobs = await queues[key].getFailed(0, limit - 1);
    for (const job of jobs) {
      if (!job?.id) continue;
      out.push({
        queue: key, id: job.id, name: job.name, data: job.data,
        failedReason: job.failedReason ?? '', attemptsMade: job.attemptsMade,
        failedAt: job.finishedOn ? new Date(job.finishedOn) : null, stacktrace: job.stacktrace ?? [],
      });
    }
  }
  return out.sort((a, b) => (b.failedAt?.getTime() ?? 0) - (a.failedAt?.getTime() ?? 0));
}

/** Moves a failed job back to waiting with fresh attempts. Refuses jobs that are not failed. */
export async function retryJob(queues: Readonly<Record<QueueKey, Queue>>, queue: QueueKey, id: string): Promise<void> {
  const q = queues[assertQueueKey(queue)];
  const job = await q.getJob(id);
  if (!job) throw new KassaError('NOT_FOUND', { entity: `Job ${id} in queue ${queue}` });
  const state = await job.getState();
  if (state !== 'failed') throw new KassaError('JOB_NOT_FAILED', { id, queue, state });
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
}

function assertQueueKey(queue: string): QueueKey {
  if (!Object.hasOwn(queueNames, queue)) throw new KassaError('JOB_QUEUE_UNKNOWN', { queue, known: Object.keys(queueNames).join(', ') });
  return queue as QueueKey;
}
