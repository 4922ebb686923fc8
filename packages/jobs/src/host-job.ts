import { KassaError } from '@kassa/core/host';
import type { Job } from 'bullmq';
import type { JobsLogger } from './context';
import { PermanentJobError } from './job-errors';
import type { HostJobPayload } from './queues';
import { isLastAttempt } from './retry-policy';

/**
 * On-demand work the host contributes (the server's exports and data shredder), for tables jobs
 * does not know: `createJobsRuntime({ hostJobs: [{ name, run }] })`, enqueued with
 * `runtime.enqueueHostJob(name, payload, { jobId, organizerId })` on the tasks queue, with the
 * same retries as every job. `run` should be safe to run again (a retry resumes or restarts).
 */
export interface HostJob {
  /** Lower-case letters, digits and "-"; unique among the host's jobs. Never rename a deployed one. */
  readonly name: string;
  /** Attempts before the job counts as failed (default: the runtime's retry policy). */
  readonly attempts?: number;
  run(payload: Record<string, unknown>, ctx: HostJobContext): Promise<unknown>;
}

export interface HostJobContext {
  /** Which attempt this is, from 1. */
  readonly attempt: number;
  /** Whether the runtime gives up after this attempt (a job may record its failure then). */
  readonly lastAttempt: boolean;
  readonly logger: JobsLogger;
}

/** Checks the host jobs once at start, so a mistake fails the boot, not the first run. */
export function assertHostJobs(jobs: readonly HostJob[]): void {
  const seen = new Set<string>();
  for (const j of jobs) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(j.name)) invalid(`host job name "${j.name}" must be lower-case letters, digits or "-"`);
    if (seen.has(j.name)) invalid(`host job "${j.name}" is registered twice`);
    seen.add(j.name);
    if (typeof j.run !== 'function') invalid(`host job "${j.name}" has no run function`);
  }
}

/** The tasks queue's processor: runs the named host job; a name this worker does not know fails permanently. */
export function hostJobProcessor(jobs: readonly HostJob[], logger: JobsLogger) {
  return async (job: Job<HostJobPayload>): Promise<unknown> => {
    const entry = jobs.find((j) => j.name === job.data.job);
    if (!entry) throw new PermanentJobError(`host job ${job.data.job} is not registered in this worker`);
    return entry.run(job.data.payload ?? {}, { attempt: job.attemptsMade + 1, lastAttempt: isLastAttempt(job), logger });
  };
}

function invalid(detail: string): never {
  throw new KassaError('CONFIG_INVALID', { detail });
}
