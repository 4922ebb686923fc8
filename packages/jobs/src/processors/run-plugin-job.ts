import type { Job } from 'bullmq';
import { PermanentJobError } from '../job-errors';
import type { PluginRuntimeFactory, RegisteredPluginJob } from '../plugin-jobs';
import type { PluginJobPayload } from '../queues';

/**
 * Runs a plugin's job with the host's PluginRuntime, bound to the organizer the job carries; a job
 * this worker does not know fails permanently.
 */
export function runPluginJobProcessor(
  jobs: readonly RegisteredPluginJob[],
  runtimeFor: PluginRuntimeFactory,
) {
  return async (job: Job<PluginJobPayload>): Promise<void> => {
    const entry = jobs.find((j) => j.plugin === job.data.plugin && j.job === job.data.job);
    if (!entry) throw new PermanentJobError(`plugin job ${job.data.plugin}/${job.data.job} is not registered in this worker`);
    await entry.run(job.data.payload ?? {}, runtimeFor(entry.plugin, job.attemptsMade + 1, typeof job.data.organizerId === 'string' ? job.data.organizerId : null));
  };
}
