import type { Job } from 'bullmq';
import type { JobsContext } from '../context';
import { PermanentJobError } from '../job-errors';
import type { MaintenancePayload } from '../queues';
import { expireOrdersProcessor } from './expire-orders';
import { purgeSessionsProcessor } from './purge-sessions';
import { sendPaymentRemindersProcessor } from './send-payment-reminders';

/** The maintenance queue's worker: routes each scheduled job by name to its processor. */
export function maintenanceProcessor(ctx: JobsContext) {
  const expire = expireOrdersProcessor(ctx);
  const reminders = sendPaymentRemindersProcessor(ctx);
  const purge = purgeSessionsProcessor(ctx);
  return async (job: Job<MaintenancePayload>): Promise<unknown> => {
    switch (job.name) {
      case 'expire-orders': return expire();
      case 'send-payment-reminders': return reminders();
      case 'purge-sessions': return purge();
      default: throw new PermanentJobError(`unknown maintenance job ${job.name}`);
    }
  };
}
