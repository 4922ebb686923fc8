import { createJobsRuntime, type JobsRuntime, type JobsRuntimeOptions } from './runtime';

/**
 * For the server in the embedded default: the worker, the relay and the schedulers run inside the
 * server process. The server calls `stop()` from its own graceful close (before closing the
 * database), so no signal handler is installed here.
 */
export async function startInProcessJobs(opts: JobsRuntimeOptions): Promise<JobsRuntime> {
  const runtime = await createJobsRuntime(opts);
  await runtime.start();
  return runtime;
}
