import type { Queue } from 'bullmq';
import type { MaintenanceTask } from './maintenance-task';
import type { RegisteredPluginJob } from './plugin-jobs';
import { schedulerIds, type JobName, type MaintenancePayload, type PluginJobPayload } from './queues';

/** A periodic job: a BullMQ job scheduler (built-ins on the maintenance queue, plugins' on theirs). */
export interface ScheduleEntry {
  id: string;
  repeat: { every: number } | { pattern: string };
  /** A built-in job's name, or a host maintenance task's. */
  name: JobName<'maintenance'> | JobName<'plugins'> | MaintenanceTask['name'];
  data: MaintenancePayload | PluginJobPayload;
  attempts?: number;
}

/**
 * The maintenance queue's periodic jobs: the built-in ones and the host's tasks. Expiry needs
 * core's services, so it is left out without them.
 */
export function maintenanceSchedule(opts: { withExpiry: boolean; tasks: readonly MaintenanceTask[]; withChargeRuns?: boolean }): ScheduleEntry[] {
  const entries: ScheduleEntry[] = [
    { id: schedulerIds.paymentReminders, repeat: { every: 3_600_000 }, name: 'send-payment-reminders', data: {} },
    ...opts.tasks.map((t): ScheduleEntry => ({ id: t.name, repeat: { every: t.everyMs }, name: t.name, data: {} })),
  ];
  if (opts.withExpiry) entries.unshift({ id: schedulerIds.expireOrders, repeat: { every: 60_000 }, name: 'expire-orders', data: {} });
  // Every 15 minutes, as Tryton's Stripe cron charges its off-session payments.
  if (opts.withChargeRuns) entries.push({ id: schedulerIds.chargeInstalments, repeat: { every: 900_000 }, name: 'charge-instalments', data: {} });
  return entries;
}

export function pluginSchedule(jobs: readonly RegisteredPluginJob[]): ScheduleEntry[] {
  return jobs.filter((j) => j.repeat).map((j) => ({
    id: schedulerIds.plugin(j.plugin, j.job), repeat: j.repeat!, name: 'plugin-job',
    data: { plugin: j.plugin, job: j.job, payload: {}, organizerId: null }, attempts: j.attempts,
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

/**
 * Re-creates the schedulers that are missing and returns their ids. A Redis restarted without
 * persistence comes back empty: without this, expiry, reminders, the host's tasks and the plugins' periodic
 * jobs would stop until the worker restarted. Only missing ones are upserted: an existing
 * scheduler and its next run are left as they are, so a periodic check costs one read each.
 */
export async function ensureSchedulers(queue: Queue, entries: readonly ScheduleEntry[]): Promise<string[]> {
  const missing: ScheduleEntry[] = [];
  for (const e of entries) {
    if (!(await queue.getJobScheduler(e.id))) missing.push(e);
  }
  await upsertSchedulers(queue, missing);
  return missing.map((e) => e.id);
}
