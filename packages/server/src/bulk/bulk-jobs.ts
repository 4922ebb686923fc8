import type { Clock, DataSource, KassaCore, ProviderRegistry } from '@kassa/core/host';
import type { HostJob, MaintenanceTask } from '@kassa/jobs';
import { BulkTaskStore } from './bulk-task.store';
import { runExport } from './export-runner';
import { runShred } from './shred-runner';

/** The host job names of the tasks (the tasks queue); never rename a deployed one. */
export const bulkJobNames = { export: 'bulk-export', shred: 'bulk-shred' } as const;

export interface BulkJobDeps {
  dataSource: DataSource;
  core: KassaCore;
  providers: ProviderRegistry;
  clock: Clock;
}

/**
 * The exports' and the shredder's jobs, for the jobs runtime of whichever process runs workers
 * (`createJobsRuntime({ hostJobs: bulkTaskJobs(deps) })`). A job's last failed attempt marks its
 * task as failed with the reason, so the control panel stops showing it as running.
 */
export function bulkTaskJobs(deps: BulkJobDeps): HostJob[] {
  const store = new BulkTaskStore(deps.dataSource);
  const job = (name: string, run: (taskId: string) => Promise<unknown>): HostJob => ({
    name,
    async run(payload, ctx) {
      const taskId = String(payload.taskId);
      try {
        await run(taskId);
      } catch (err) {
        if (ctx.lastAttempt) await store.fail(taskId, deps.clock.now(), err instanceof Error ? err.message : String(err));
        throw err;
      }
    },
  });
  return [
    job(bulkJobNames.export, (id) => runExport({ ...deps, store }, id)),
    job(bulkJobNames.shred, (id) => runShred({ ...deps, store }, id)),
  ];
}

/** How long an export's file is kept: long enough to fetch it, short enough that personal data does not linger. */
export const EXPORT_FILE_DAYS = 7;

/** The periodic removal of export files older than EXPORT_FILE_DAYS, for the jobs runtime's maintenance. */
export function exportFilePurgeTask(dataSource: DataSource): MaintenanceTask {
  const store = new BulkTaskStore(dataSource);
  return {
    name: 'purge-export-files',
    everyMs: 3_600_000,
    async run({ now }) {
      const before = new Date(now.getTime() - EXPORT_FILE_DAYS * 86_400_000);
      return { removed: await store.removeFiles(before, null, `kept ${EXPORT_FILE_DAYS} days`) };
    },
  };
}
