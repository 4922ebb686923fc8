// The public surface of @kassa/jobs: the server (in-process worker, control panel) and the CLI use this.
export { defineJobsConfig, loadJobsConfig, defaultRetry, defaultWorker, defaultEmails, type JobsConfig, type JobsBackendConfig, type RetrySettings, type WorkerSettings, type EmailSettings } from './config';
export { createJobsRuntime, type JobsRuntime, type JobsRuntimeOptions, type PluginEnqueueOptions, type StartOptions } from './runtime';
export { startInProcessJobs } from './in-process';
export { runWorker, type WorkerMainOptions } from './worker-main';
export { stopOnSignals } from './shutdown';
export { consoleLogger, silentLogger, type JobsContext, type JobsLogger, type JobsProviders, type JobsServices } from './context';
export { queueNames, jobIds, schedulerIds, type QueueKey, type QueueName, type QueuePayloads, type DeliverEventPayload, type SendEmailPayload, type PluginJobPayload } from './queues';
export { PermanentJobError, isPermanentJobError } from './job-errors';
export { defaultJobOptions } from './retry-policy';
export { type EventHandler, type RelayedEvent } from './outbox/event-handler';
export { OutboxRelay } from './outbox/outbox-relay';
export { type FailedJob, type FailedJobsQuery, type JobViewer } from './failed-jobs';
export { listStoredEmails, getStoredEmail, type StoredEmailQuery, type StoredEmailSummary } from './emails/stored-emails';
export { EmailRenderer, emailTemplateNames, emailLocales, emailLocale, type EmailTemplateName, type RenderedEmail } from './emails/email-templates';
export { pluginJobId, type PluginHost, type PluginEventPayload } from './plugin-jobs';
export { type MaintenanceTask, type MaintenanceTaskContext } from './maintenance-task';
export { type HostJob, type HostJobContext } from './host-job';
export { type HostJobPayload } from './queues';
