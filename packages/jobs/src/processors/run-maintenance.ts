import type { Job } from 'bullmq';
import type { JobsContext } from '../context';
import { PermanentJobError } from '../job-errors';
import type { MaintenanceTask } from '../maintenance-task';
import type { ActionRequiredCheckPayload, MaintenancePayload } from '../queues';
import { sendActionRequiredEmailProcessor } from './send-action-required-email';
import { expireOrdersProcessor } from './expire-orders';
import { maintenanceTaskProcessor } from './run-maintenance-task';
import { sendPaymentRemindersProcessor } from './send-payment-reminders';
import { chargeInstalmentsProcessor } from './charge-instalments';

/**
 * The maintenance queue's worker: routes each job (scheduled, or the delayed action-required check)
 * by name to its processor; the host's tasks by their own names.
 */
export function maintenanceProcessor(ctx: JobsContext, tasks: readonly MaintenanceTask[] = []) {
  const expire = expireOrdersProcessor(ctx);
  const reminders = sendPaymentRemindersProcessor(ctx);
  const actionRequired = sendActionRequiredEmailProcessor(ctx);
  const chargeInstalments = chargeInstalmentsProcessor(ctx);
  const hostTasks = new Map(tasks.map((t) => [t.name, maintenanceTaskProcessor(ctx, t)]));
  return async (job: Job<MaintenancePayload | ActionRequiredCheckPayload>): Promise<unknown> => {
    switch (job.name) {
      case 'expire-orders': return expire();
      case 'send-payment-reminders': return reminders();
      case 'send-action-required-email': return actionRequired(job.data as ActionRequiredCheckPayload);
      case 'charge-instalments': return chargeInstalments();
      default: {
        const task = hostTasks.get(job.name);
        if (!task) throw new PermanentJobError(`unknown maintenance job ${job.name}`);
        return task();
      }
    }
  };
}
