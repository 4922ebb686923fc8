import type { Plugin, PluginJob } from '@kassa/core';
import type { JobsContext } from './context';
import type { EventHandler, RelayedEvent } from './outbox/event-handler';

/** What a plugin job's processor receives. */
export interface PluginJobContext {
  readonly plugin: string;
  readonly job: string;
  readonly jobs: JobsContext;
  /** Set when the job runs for an outbox event (a job declared with `topics`). */
  readonly event?: RelayedEvent;
  /** 1 on the first attempt. Derive provider idempotency keys from the event or row id, never from this. */
  readonly attempt: number;
}

export type PluginJobProcessor = (ctx: PluginJobContext) => Promise<unknown> | unknown;

/** A plugin's periodic job, as the worker schedules it. */
export interface PeriodicPluginJob {
  readonly key: string;
  readonly plugin: string;
  readonly job: string;
  readonly repeat: { every: number } | { pattern: string };
  readonly attempts?: number;
  readonly run: PluginJobProcessor;
}

/**
 * Reads core's plain-data `PluginJob`s:
 * - with `repeat` → a periodic job (a BullMQ job scheduler on the maintenance queue);
 * - with `topics` (array of outbox topics) → an event handler named "<plugin>.<job>", run after
 *   commit on every delivery of those events, so the processor must be idempotent itself
 *   (Stripe calls carry idempotency keys from the event or row id);
 * - with neither → refused: there would be nothing that runs it.
 */
export function interpretPluginJobs(plugins: readonly Plugin[]): { periodic: PeriodicPluginJob[]; handlers: EventHandler[] } {
  const periodic: PeriodicPluginJob[] = [];
  const handlers: EventHandler[] = [];
  for (const plugin of plugins) {
    for (const job of plugin.jobs ?? []) {
      const run = job.processor as unknown as PluginJobProcessor;
      const topics = topicsOf(job);
      if (!job.repeat && !topics) throw new Error(`Plugin ${plugin.name}: job "${job.name}" has neither repeat nor topics, so nothing would run it`);
      if (job.repeat) {
        const repeat = 'everyMs' in job.repeat ? { every: job.repeat.everyMs } : { pattern: job.repeat.cron };
        periodic.push({ key: `${plugin.name}/${job.name}`, plugin: plugin.name, job: job.name, repeat, attempts: job.attempts, run });
      }
      if (topics) {
        handlers.push({
          name: `${plugin.name}.${job.name}`,
          topics,
          afterCommit: async (event, ctx) => {
            await run({ plugin: plugin.name, job: job.name, jobs: ctx, event, attempt: 1 });
          },
        });
      }
    }
  }
  return { periodic, handlers };
}

function topicsOf(job: PluginJob): string[] | null {
  const topics = (job as PluginJob & { topics?: unknown }).topics;
  if (topics === undefined) return null;
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string')) {
    throw new Error(`Plugin job "${job.name}": topics must be a non-empty array of outbox topics`);
  }
  return topics as string[];
}
