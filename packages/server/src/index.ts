export { buildApp, routesOf } from './app';
export type { AppDeps, ServerConfig } from './deps';
/** The shop's own migration(s); a host or a test database runs them after core's. */
export { shopMigrations } from './shop';
export { hashPassword, verifyPassword, type HashOptions } from './auth/password';
/** For the distribution (@kassa/app): start-up warnings, the operator CLI, the demo seed's catalogue, API tokens. */
export { startupWarnings } from './infra/trusted-proxies';
export { listOperators, setOperator } from './auth/operators';
export { createApiToken } from './auth/api-token';
export { CatalogService, type EventInput, type ProductInput, type QuotaInput } from './control/catalog.service';
/** Deletes expired http sessions (the server's table); the distribution hands sessionPurgeTask to the jobs runtime. */
export { purgeExpiredSessions, sessionPurgeTask } from './infra/session-store';
/** The exports' and the data shredder's jobs, for the jobs runtime of the process that runs workers (hostJobs). */
export { bulkTaskJobs, bulkJobNames, exportFilePurgeTask, EXPORT_FILE_DAYS, type BulkJobDeps } from './bulk/bulk-jobs';
