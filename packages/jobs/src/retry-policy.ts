import type { JobsOptions } from 'bullmq';
import type { RetrySettings } from './config';

/**
 * The one retry policy: `attempts` tries with exponential backoff (delay, 2×delay, 4×delay…) and
 * 50 % jitter, so jobs that failed together (an SMTP outage) do not all come back in the same
 * second. Failed jobs are kept for the control panel; completed ones only long enough to swallow
 * a duplicate enqueue of the same deterministic id.
 */
export function defaultJobOptions(retry: RetrySettings): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
    removeOnComplete: { age: 24 * 3600, count: 20_000 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}

/** Whether the attempt now running is the last one the policy allows. */
export function isLastAttempt(job: { attemptsMade: number; opts: { attempts?: number } }): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
