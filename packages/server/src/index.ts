export { buildApp } from './app';
export type { AppDeps, ServerConfig } from './deps';
/** The shop's own migration(s); a host or a test database runs them after core's. */
export { shopMigrations } from './shop';
export { hashPassword, verifyPassword, type HashOptions } from './auth/password';
export { startKassa, composeKassa, bundledPlugins, type StartKassaOptions, type RunningKassa, type KassaComposition } from './bootstrap';
/** Deletes expired http sessions (the server's table); the jobs maintenance task calls it through the host. */
export { purgeExpiredSessions, sessionPurgeTask } from './infra/session-store';
