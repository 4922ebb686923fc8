import type { JobsContext } from '../context';
import { writeActionRequiredIfStillNeeded } from '../emails/action-required-email';
import { PermanentJobError } from '../job-errors';
import type { ActionRequiredCheckPayload } from '../queues';

/**
 * The delayed job the `payment.action_required` handler queues (job id `action-required-<event
 * id>`, delay `emails.actionRequiredDelayMs`): emails the buyer if the payment still waits for them.
 */
export function sendActionRequiredEmailProcessor(ctx: JobsContext) {
  return async (payload: ActionRequiredCheckPayload): Promise<{ outcome: string }> => {
    if (!/^\d{1,19}$/.test(String(payload.eventId))) throw new PermanentJobError(`send-action-required-email: bad event id ${String(payload.eventId)}`);
    return { outcome: await writeActionRequiredIfStillNeeded(ctx, String(payload.eventId)) };
  };
}
