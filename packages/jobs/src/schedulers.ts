import type { Queue } from 'bullmq';
import type { PeriodicPluginJob } from './plugin-jobs';
import { schedulerIds, type JobName, type MaintenancePayload } from './queues';

/** A periodic job: a BullMQ job scheduler on the maintenance queue. */
interface ScheduleEntry {
  id: string;
  repeat: { every: number } | { pattern: string };
  name: JobName<'maintenance'>;
  data: MaintenancePayload;
  attempts?: number;
}

/** The built-in periodic jobs. Expiry needs core's services, so it is left out without them. */
export function builtinSchedule(opts: { withExpiry: boolean }): ScheduleEntry[] {
  const entries: ScheduleEntry[] = [
    { id: schedulerIds.paymentReminders, repeat: { every: 3_600_000 }, name: 'send-payment-reminders', data: {} },
    { id: schedulerIds.purgeSessions, repeat: { every: 3_600_000 }, name: 'purge-sessions', data: {} },
  ];
  if (opts.withExpiry) entries.unshift({ id: schedulerIds.expireOrders, repeat: { every: 60_000 }, name: 'expire-orders', data: {} });
  return entries;
}

export function pluginSchedule(jobs: readonly PeriodicPluginJob[]): ScheduleEntry[] {
  return jobs.map((j) => ({
    id: schedulerIds.plugin(j.plugin, j.job), repeat: j.repeat, name: 'plugin-job', data: { pluginJob: j.key }, attempts: j.attempts,
  }));
}

/**
 * Upserts every scheduler. Idempotent, so every worker process may call it at start: the scheduler
 * id is the key, and BullMQ creates each iteration's job once whichever process asks.
 */
export async function upsertSchedulers(queue: Queue, entries: readonly ScheduleEntry[]): Promise<void> {
  for (const e of entries) {
    await queue.upsertJobScheduler(e.id, e.repeat, {
      name: e.name,
      data: e.data,
      opts: { ...(e.attempts ? { attempts: e.attempts } : {}), removeOnComplete: { count: 100 } },
    });
  }
}
