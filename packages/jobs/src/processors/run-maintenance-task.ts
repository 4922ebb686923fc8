import type { JobsContext } from '../context';
import type { MaintenanceTask } from '../maintenance-task';

/** Runs one of the host's maintenance tasks with the runtime's clock and logger. */
export function maintenanceTaskProcessor(ctx: JobsContext, task: MaintenanceTask) {
  return (): Promise<unknown> => task.run({ now: ctx.clock.now(), logger: ctx.logger });
}
