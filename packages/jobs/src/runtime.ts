import { InFlightBatcher, KassaError, createPluginRuntimes, systemClock, type Clock, type DataSource, type Plugin, type WebhookService } from '@kassa/core/host';
import type { BulkJobOptions, Queue, Worker } from 'bullmq';
import { createJobsBackend, type JobsBackend } from './backend';
import type { JobsConfig } from './config';
import { consoleLogger, type JobsContext, type JobsLogger, type JobsProviders, type JobsServices } from './context';
import { emailHandlers } from './emails/email-handlers';
import { EmailOutbox } from './emails/email-outbox';
import { EmailRenderer } from './emails/email-templates';
import { createSmtpMailer, type Mailer } from './emails/mailer';
import { assertMaintenanceTasks, type MaintenanceTask } from './maintenance-task';
import { assertHostJobs, hostJobProcessor, type HostJob } from './host-job';
import { listFailedJobs, retryJob, type FailedJob, type FailedJobsQuery, type JobViewer } from './failed-jobs';
import { assertHandlers, type EventHandler } from './outbox/event-handler';
import { OutboxRelay } from './outbox/outbox-relay';
import { findPluginJob, interpretPluginJobs, pluginEventHandlers, pluginJobId, type PluginHost, type PluginRuntimeFactory } from './plugin-jobs';
import { deliverEventProcessor } from './processors/deliver-event';
import { maintenanceProcessor } from './processors/run-maintenance';
import { runPluginJobProcessor } from './processors/run-plugin-job';
import { sendEmailProcessor } from './processors/send-email';
import { deliverWebhookProcessor } from './processors/deliver-webhook';
import { organizerWebhookHandler } from './webhooks/webhook-handler';
import { jobIds, queueNames, type HostJobPayload, type PluginJobPayload, type QueueKey } from './queues';
import { SchedulerWatcher } from './scheduler-watcher';
import { defaultJobOptions } from './retry-policy';
import { maintenanceSchedule, pluginSchedule, upsertSchedulers } from './schedulers';

export interface JobsRuntimeOptions {
  dataSource: DataSource;
  config: JobsConfig;
  clock?: Clock;
  logger?: JobsLogger;
  /** Core's services (`createKassaCore()`); without them order expiry is not scheduled. */
  services?: JobsServices | null;
  /** The payment providers and their context factory; without them emails carry no provider text. */
  providers?: JobsProviders | null;
  /** Loaded plugins: their `jobs` can be enqueued, and become periodic jobs and event handlers. */
  plugins?: readonly Plugin[];
  /** What plugin jobs receive (core, settings, providers, baseUrl…); required when a plugin declares jobs. */
  pluginHost?: PluginHost;
  /** Handlers besides the built-in email ones (tests, the server). */
  handlers?: readonly EventHandler[];
  /** Leave out the built-in email handlers (benchmarks, tests of the machinery itself). */
  withoutEmailHandlers?: boolean;
  /**
   * The host's periodic work on its own tables (the server's session purge), run by the
   * maintenance queue on a scheduler of its own; jobs never sees the tables.
   */
  maintenance?: readonly MaintenanceTask[];
  /**
   * Organizer webhooks: with it, outbox events become deliveries and this process's workers send
   * them (the service opens the endpoints' sealed secrets and knows the operator's address policy).
   */
  webhooks?: { service: Pick<WebhookService, 'openSecret' | 'allowPrivateAddresses'>; timeoutMs?: number } | null;
  /** The host's on-demand jobs (the server's exports and data shredder), run from the tasks queue. */
  hostJobs?: readonly HostJob[];
}

export interface StartOptions {
  /** Run the queue workers in this process (default true). */
  workers?: boolean;
  /** Poll the outbox in this process (default true). */
  relay?: boolean;
  /** Upsert the job schedulers (default true). */
  schedulers?: boolean;
}

/** The jobs machinery of one process: queues, workers, relay, schedulers. No module-level state. */
export interface JobsRuntime {
  readonly context: JobsContext;
  readonly queues: Readonly<Record<QueueKey, Queue>>;
  readonly relay: OutboxRelay;
  readonly handlers: readonly EventHandler[];
  start(opts?: StartOptions): Promise<void>;
  /** Graceful: stops taking jobs, lets the ones in flight finish, closes connections. */
  stop(): Promise<void>;
  /**
   * Enqueues one of a plugin's declared jobs (the server's PluginRuntime.enqueue lands here).
   * `organizerId` is the host's to set (the organizer of the route or job it is enqueued from),
   * never the plugin's: the control panel shows the job to that organizer only.
   */
  enqueuePluginJob(plugin: string, job: string, payload: Record<string, unknown>, opts?: PluginEnqueueOptions): Promise<void>;
  /** Failed jobs, newest first; with `viewer`, only the ones that viewer may see. */
  listFailedJobs(q?: FailedJobsQuery): Promise<FailedJob[]>;
  /** Retries a failed job; with `viewer`, a job it may not see is NOT_FOUND. */
  retryJob(queue: QueueKey, id: string, viewer?: JobViewer): Promise<void>;
  /** Re-creates missing job schedulers now (also done on every Redis reconnect and periodically); returns their ids. */
  ensureSchedulers(): Promise<string[]>;
  /**
   * Enqueues one of the host's jobs (JobsRuntimeOptions.hostJobs) for `organizerId` (null: the
   * instance's); the same `jobId` enqueued twice is one job.
   */
  enqueueHostJob(job: string, payload: Record<string, unknown>, opts: { jobId: string; organizerId: string | null }): Promise<void>;
  /** Drops everything the backend stored (tests and benchmarks only). */
  destroyBackend(): Promise<void>;
  /**
   * Enqueues webhook deliveries: their first job, or with `retryAfterAttempts` a retry the
   * organizer asked for (a job id of its own, so it does not collide with the failed one).
   */
  enqueueWebhookDeliveries(deliveries: readonly { id: string; organizerId: string }[], retryAfterAttempts?: number): Promise<void>;
}

export interface PluginEnqueueOptions {
  jobId?: string;
  delayMs?: number;
  /** The organizer the job concerns (null or absent: instance-wide). Set by the host only. */
  organizerId?: string | null;
}

/** Builds the runtime: prepares the backend (BullMQ's tables on PostgreSQL) and opens the queues. */
export async function createJobsRuntime(opts: JobsRuntimeOptions): Promise<JobsRuntime> {
  const { config, dataSource } = opts;
  const logger = opts.logger ?? consoleLogger;
  // Checked before anything is opened, so a bad plugin fails the boot without leaking connections.
  const pluginJobs = interpretPluginJobs(opts.plugins ?? []);
  const maintenanceTasks = opts.maintenance ?? [];
  assertMaintenanceTasks(maintenanceTasks);
  const hostJobs = opts.hostJobs ?? [];
  assertHostJobs(hostJobs);
  if (pluginJobs.length > 0 && !opts.pluginHost) {
    throw new KassaError('CONFIG_INVALID', { detail: `plugin jobs (${pluginJobs.map((j) => j.key).join(', ')}) need the jobs runtime's pluginHost option` });
  }
  // Late-bound: the runtimes plugin jobs receive enqueue through the queues created below.
  let enqueuePluginJob: JobsRuntime['enqueuePluginJob'] = async () => undefined;
  // What a running job enqueues inherits its organizer; the plugin's own options cannot name one.
  // The plugin port of this process: each plugin's per-host state is created once and closed in stop().
  const pluginRuntimes = opts.pluginHost ? createPluginRuntimes(opts.pluginHost, opts.plugins ?? []) : null;
  const runtimeFor: PluginRuntimeFactory = (plugin, attempt, organizerId) => ({
    ...pluginRuntimes!.runtime(plugin, {
      log: logger,
      enqueue: (job, payload, jobOpts) => enqueuePluginJob(plugin, job, payload, { jobId: jobOpts?.jobId, delayMs: jobOpts?.delayMs, organizerId }),
    }),
    attempt,
  });
  // Late-bound like enqueuePluginJob: the webhook handler enqueues through the queue created below.
  let enqueueWebhookDeliveries: JobsRuntime['enqueueWebhookDeliveries'] = async () => undefined;
  const handlers = [
    ...(opts.withoutEmailHandlers ? [] : emailHandlers()), ...pluginEventHandlers(pluginJobs, runtimeFor),
    ...(opts.webhooks ? [organizerWebhookHandler((d) => enqueueWebhookDeliveries(d))] : []), ...(opts.handlers ?? []),
  ];
  assertHandlers(handlers);
  const backend: JobsBackend = createJobsBackend(config.backend);
  await backend.prepare();
  const jobOptions = defaultJobOptions(config.retry);
  const queues: Record<QueueKey, Queue> = {
    events: backend.createQueue(queueNames.events, { defaultJobOptions: jobOptions }),
    emails: backend.createQueue(queueNames.emails, { defaultJobOptions: jobOptions }),
    maintenance: backend.createQueue(queueNames.maintenance, { defaultJobOptions: jobOptions }),
    plugins: backend.createQueue(queueNames.plugins, { defaultJobOptions: jobOptions }),
    tasks: backend.createQueue(queueNames.tasks, { defaultJobOptions: jobOptions }),
    webhooks: backend.createQueue(queueNames.webhooks, { defaultJobOptions: jobOptions }),
  };
  enqueueWebhookDeliveries = async (deliveries, retryAfterAttempts) => {
    await queues.webhooks.addBulk(deliveries.map((d) => ({
      name: 'deliver-webhook', data: { deliveryId: d.id, organizerId: d.organizerId }, opts: { jobId: jobIds.deliverWebhook(d.id, retryAfterAttempts) },
    })));
  };
  // Plugin jobs enqueued while an add is in flight go to the queue together, as one addBulk: a rush
  // of webhooks (each enqueueing its event's job) costs one Redis round trip per batch, not per
  // webhook. Each caller's promise settles with its batch; a batch that fails is tried again job by
  // job, so one job the queue refuses fails only its own caller.
  const pluginAdds = new InFlightBatcher<{ name: string; data: PluginJobPayload; opts: BulkJobOptions }, void>(async (adds) => {
    await queues.plugins.addBulk(adds);
    return adds.map(() => undefined);
  });
  enqueuePluginJob = async (plugin, job, payload, jobOpts = {}) => {
    const declared = findPluginJob(pluginJobs, plugin, job);
    const organizerId = jobOpts.organizerId ?? null;
    await pluginAdds.submit({
      name: 'plugin-job', data: { plugin, job, payload, organizerId },
      opts: {
        ...(jobOpts.jobId ? { jobId: pluginJobId(plugin, jobOpts.jobId, organizerId) } : {}),
        ...(jobOpts.delayMs ? { delay: jobOpts.delayMs } : {}),
        ...(declared.attempts ? { attempts: declared.attempts } : {}),
      },
    });
  };
  for (const q of Object.values(queues)) q.on('error', (err) => logger.error('queue error', { queue: q.name, error: err.message }));

  const mailer: Mailer | null = config.smtpUrl ? createSmtpMailer(config.smtpUrl, config.mailFrom) : null;
  const emails = new EmailOutbox(dataSource, new EmailRenderer(), config.smtpUrl, config.mailFrom, async (ids) => {
    await queues.emails.addBulk(ids.map((emailId) => ({ name: 'send-email', data: { emailId }, opts: { jobId: jobIds.sendEmail(emailId) } })));
  }, async (check, delayMs) => {
    await queues.maintenance.add('send-action-required-email', check, { jobId: jobIds.actionRequiredCheck(check.eventId), delay: delayMs });
  });
  const context: JobsContext = { dataSource, config, clock: opts.clock ?? systemClock, logger, emails, services: opts.services ?? null, providers: opts.providers ?? null };
  const relay = new OutboxRelay(dataSource, queues.events, logger, config.worker.relayPollMs, config.worker.strandedAfterMs);
  const workers: Worker[] = [];
  let started = false;
  let stopping = false;
  const schedules = [
    { queue: queues.maintenance, entries: maintenanceSchedule({ withExpiry: context.services !== null, tasks: maintenanceTasks, withChargeRuns: context.services?.chargeRuns !== undefined }) },
    { queue: queues.plugins, entries: pluginSchedule(pluginJobs) },
  ];
  const watcher = new SchedulerWatcher(backend, schedules, logger, config.worker.schedulerCheckMs);

  const workerOptions = {
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: 2,
  };

  return {
    context, queues, relay, handlers,
    async start(startOpts = {}) {
      if (started) return;
      started = true;
      if (startOpts.workers ?? true) {
        workers.push(
          backend.createWorker(queueNames.events, deliverEventProcessor(context, handlers, relay, undefined, () => stopping) as never, { ...workerOptions, concurrency: config.worker.concurrency }),
          backend.createWorker(queueNames.maintenance, maintenanceProcessor(context, maintenanceTasks) as never, { ...workerOptions, concurrency: 2 }),
        );
        if (pluginJobs.length > 0) {
          workers.push(backend.createWorker(queueNames.plugins, runPluginJobProcessor(pluginJobs, runtimeFor) as never, { ...workerOptions, concurrency: 4 }));
        }
        if (opts.webhooks) {
          const webhookOptions = { webhooks: opts.webhooks.service, timeoutMs: opts.webhooks.timeoutMs ?? 10_000 };
          workers.push(backend.createWorker(queueNames.webhooks, deliverWebhookProcessor(context, webhookOptions) as never, { ...workerOptions, concurrency: 4 }));
        }
        if (hostJobs.length > 0) {
          workers.push(backend.createWorker(queueNames.tasks, hostJobProcessor(hostJobs, logger) as never, { ...workerOptions, concurrency: 2 }));
        }
        if (mailer) workers.push(backend.createWorker(queueNames.emails, sendEmailProcessor(context, mailer) as never, { ...workerOptions, concurrency: 4 }));
        for (const w of workers) {
          w.on('error', (err) => logger.error('worker error', { queue: w.name, error: err.message }));
          w.on('failed', (job, err) => logger.warn('job failed', { queue: w.name, id: job?.id, attemptsMade: job?.attemptsMade, error: err.message }));
        }
        await Promise.all(workers.map((w) => w.waitUntilReady()));
      }
      if (startOpts.schedulers ?? true) {
        for (const s of schedules) await upsertSchedulers(s.queue, s.entries);
        watcher.start();
      }
      if (startOpts.relay ?? true) relay.start();
    },
    async stop() {
      stopping = true;
      await watcher.stop();
      await relay.stop();
      // Worker.close() waits for the jobs in flight; a job it never got to stays in the queue.
      await Promise.all(workers.splice(0).map((w) => w.close()));
      await Promise.all(Object.values(queues).map((q) => q.close()));
      await pluginRuntimes?.close();
      mailer?.close();
    },
    enqueuePluginJob: (plugin, job, payload, jobOpts) => enqueuePluginJob(plugin, job, payload, jobOpts),
    listFailedJobs: (q) => listFailedJobs(queues, dataSource, q),
    retryJob: (queue, id, viewer) => retryJob(queues, dataSource, queue, id, viewer),
    ensureSchedulers: () => watcher.check(),
    async enqueueHostJob(job, payload, jobOpts) {
      const declared = hostJobs.find((j) => j.name === job);
      if (!declared) throw new KassaError('CONFIG_INVALID', { detail: `host job "${job}" is not registered in the jobs runtime (hostJobs)` });
      // BullMQ refuses ':' in custom ids; the prefix keeps host job ids apart from every other kind.
      await queues.tasks.add('host-job', { job, payload, organizerId: jobOpts.organizerId } satisfies HostJobPayload, {
        jobId: `host-${job}-${jobOpts.jobId}`,
        ...(declared.attempts ? { attempts: declared.attempts } : {}),
      });
    },
    destroyBackend: () => backend.destroyAll(),
    enqueueWebhookDeliveries: (deliveries, retryAfterAttempts) => enqueueWebhookDeliveries(deliveries, retryAfterAttempts),
  };
}
