import { KassaError } from '@kassa/core/host';
import type { JobsLogger } from './context';
import type { JobName } from './queues';

/**
 * Periodic work the host contributes to the maintenance queue, for tables jobs does not know (the
 * server's sessions, say): `createJobsRuntime({ maintenance: [{ name, everyMs, run }] })`. It runs
 * on a job scheduler like the built-in periodic jobs, once per period across all workers, with the
 * same retries; what `run` returns is the job's return value.
 */
export interface MaintenanceTask {
  /**
   * Job name and scheduler id: lower-case letters, digits and "-", not a built-in job's name.
   * Never rename a deployed one (its scheduler would stay behind).
   */
  readonly name: string;
  /** How often it runs. */
  readonly everyMs: number;
  run(ctx: MaintenanceTaskContext): Promise<unknown>;
}

export interface MaintenanceTaskContext {
  /** The runtime's clock: the time the task should take as now. */
  readonly now: Date;
  readonly logger: JobsLogger;
}

/** The maintenance queue's own job names, which a host task cannot take. */
const builtinNames: readonly JobName<'maintenance'>[] = ['expire-orders', 'send-payment-reminders', 'send-action-required-email', 'charge-instalments'];

/** Checks the tasks once at start, so a mistake fails the boot, not the first run. */
export function assertMaintenanceTasks(tasks: readonly MaintenanceTask[]): void {
  const seen = new Set<string>(builtinNames);
  for (const t of tasks) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(t.name)) invalid(`maintenance task name "${t.name}" must be lower-case letters, digits or "-"`);
    if (seen.has(t.name)) invalid(`maintenance task "${t.name}" is registered twice or takes a built-in job's name`);
    seen.add(t.name);
    if (!Number.isSafeInteger(t.everyMs) || t.everyMs <= 0) invalid(`maintenance task "${t.name}": everyMs must be a positive integer`);
    if (typeof t.run !== 'function') invalid(`maintenance task "${t.name}" has no run function`);
  }
}

function invalid(detail: string): never {
  throw new KassaError('CONFIG_INVALID', { detail });
}
