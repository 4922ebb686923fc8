import { KassaError, type Plugin, type PluginHostDeps, type PluginJob, type PluginJobProcessor, type PluginJobRuntime } from '@kassa/core/host';
import type { EventHandler } from './outbox/event-handler';

/**
 * What the plugin port is built from (core's services, data source, settings, clock, base URL);
 * the jobs runtime adds `enqueue` and `log`. The composition root (the server, or the worker CLI) has all of it.
 */
export type PluginHost = PluginHostDeps;

/**
 * Builds the PluginRuntime a plugin's job receives. `organizerId` is the organizer the running job
 * concerns (null: instance-wide); whatever the job enqueues inherits it, so a plugin cannot move
 * work into another organizer's scope.
 */
export type PluginRuntimeFactory = (plugin: string, attempt: number, organizerId: string | null) => PluginJobRuntime;

/** One of a plugin's jobs as the worker runs it. */
export interface RegisteredPluginJob {
  /** "<plugin>/<job>" */
  readonly key: string;
  readonly plugin: string;
  readonly job: string;
  readonly repeat: { every: number } | { pattern: string } | null;
  readonly topics: readonly string[] | null;
  readonly attempts?: number;
  readonly run: PluginJobProcessor;
}

/** The payload of a job that runs for an outbox event (a plugin job declared with `topics`). */
export interface PluginEventPayload {
  eventId: string;
  topic: string;
  organizerId: string | null;
  orderId: string | null;
  data: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Reads core's plain-data `PluginJob`s (`definePlugin({ jobs })`):
 * - every job can be enqueued by the plugin (`rt.enqueue(name, payload, { jobId })`) onto the
 *   plugins queue, with the job's own `attempts`;
 * - with `repeat` (`{ everyMs }` or `{ cron }`) it also runs on a BullMQ job scheduler;
 * - with `topics` (outbox topics; an extension core's type does not declare yet) it also runs
 *   for each of those events, after the event's database effects committed and in order per
 *   order, as an event handler named "<plugin>.<job>". It runs again on redelivery, so it must be
 *   idempotent (provider calls carry idempotency keys from the event or row id).
 */
export function interpretPluginJobs(plugins: readonly Plugin[]): RegisteredPluginJob[] {
  const out: RegisteredPluginJob[] = [];
  for (const plugin of plugins) {
    for (const job of plugin.jobs ?? []) {
      const repeat = job.repeat ? ('everyMs' in job.repeat ? { every: job.repeat.everyMs } : { pattern: job.repeat.cron }) : null;
      out.push({
        key: `${plugin.name}/${job.name}`, plugin: plugin.name, job: job.name, repeat, topics: topicsOf(plugin.name, job),
        attempts: job.attempts, run: job.processor,
      });
    }
  }
  return out;
}

/** Event handlers for the plugin jobs that name topics; `runtimeFor` builds the PluginRuntime. */
export function pluginEventHandlers(
  jobs: readonly RegisteredPluginJob[],
  runtimeFor: PluginRuntimeFactory,
): EventHandler[] {
  return jobs.filter((j) => j.topics).map((j) => ({
    name: `${j.plugin}.${j.job}`,
    topics: j.topics!,
    afterCommit: async (event) => {
      const payload: PluginEventPayload = {
        eventId: event.id, topic: event.topic, organizerId: event.organizerId, orderId: event.orderId, data: { ...event.payload },
      };
      await j.run(payload, runtimeFor(j.plugin, 1, event.organizerId));
    },
  }));
}

/**
 * A plugin's job id, made safe for BullMQ (which refuses ':' in ids) without ever mapping two
 * different ids to one: '%', ':' and '@' are escaped as in a URL. A job enqueued for an organizer
 * carries it after an unescaped '@', so two organizers' jobs never share an id: one organizer
 * cannot pre-empt another's job by enqueuing the same id first.
 */
export function pluginJobId(plugin: string, jobId: string, organizerId: string | null = null): string {
  const escaped = jobId.replace(/%/g, '%25').replace(/:/g, '%3A').replace(/@/g, '%40');
  return `${plugin}--${escaped}${organizerId ? `@${organizerId}` : ''}`;
}

export function findPluginJob(jobs: readonly RegisteredPluginJob[], plugin: string, job: string): RegisteredPluginJob {
  const found = jobs.find((j) => j.plugin === plugin && j.job === job);
  if (!found) throw new KassaError('NOT_FOUND', { entity: `Job ${job} of plugin ${plugin}` });
  return found;
}

function topicsOf(plugin: string, job: PluginJob): string[] | null {
  const topics = (job as PluginJob & { topics?: unknown }).topics;
  if (topics === undefined) return null;
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string' && t.length > 0)) {
    throw new KassaError('PLUGIN_INVALID', { plugin, reason: `job "${job.name}": topics must be a non-empty array of outbox topics` });
  }
  return topics as string[];
}
