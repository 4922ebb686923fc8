import type { DataSource } from '@kassa/core/host';
import type { MaintenanceTask } from '@kassa/jobs';

// TEMPORARY (issue 12, branch h-jobs; moved here with the composition): jobs no longer knows the
// server's http_session table, so the distribution contributes the hourly purge as a maintenance
// task (same scheduler id and behaviour as jobs' former purge-sessions job). To be replaced by the
// server's own `purgeExpiredSessions(dataSource)` in infra/session-store.ts (helper "server").
/** The server's hourly maintenance task: deletes expired sessions (nothing while the table does not exist). */
export function sessionPurgeTask(dataSource: DataSource): MaintenanceTask {
  return {
    name: 'purge-sessions',
    everyMs: 3_600_000,
    async run({ now }) {
      const [exists]: { t: string | null }[] = await dataSource.query(`SELECT to_regclass('http_session')::text AS t`);
      if (!exists?.t) return { purged: 0 };
      const [, purged]: [unknown, number] = await dataSource.query(`DELETE FROM http_session WHERE expires_at < $1`, [now]);
      return { purged };
    },
  };
}
