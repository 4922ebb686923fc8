import type { Job } from 'bullmq';
import type { JobsContext } from '../context';
import { PermanentJobError } from '../job-errors';
import type { ActionRequiredCheckPayload, MaintenancePayload } from '../queues';
import { sendActionRequiredEmailProcessor } from './send-action-required-email';
import { expireOrdersProcessor } from './expire-orders';
import { purgeSessionsProcessor } from './purge-sessions';
import { sendPaymentRemindersProcessor } from './send-payment-reminders';

/** The maintenance queue's worker: routes each job (scheduled, or the delayed action-required check) by name to its processor. */
export function maintenanceProcessor(ctx: JobsContext) {
  const expire = expireOrdersProcessor(ctx);
  const reminders = sendPaymentRemindersProcessor(ctx);
  const purge = purgeSessionsProcessor(ctx);
  const actionRequired = sendActionRequiredEmailProcessor(ctx);
  return async (job: Job<MaintenancePayload | ActionRequiredCheckPayload>): Promise<unknown> => {
    switch (job.name) {
      case 'expire-orders': return expire();
      case 'send-payment-reminders': return reminders();
      case 'purge-sessions': return purge();
      case 'send-action-required-email': return actionRequired(job.data as ActionRequiredCheckPayload);
      default: throw new PermanentJobError(`unknown maintenance job ${job.name}`);
    }
  };
}
