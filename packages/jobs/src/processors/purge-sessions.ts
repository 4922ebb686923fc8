import type { JobsContext } from '../context';

/**
 * Deletes expired control-panel and shop sessions. The table belongs to the server
 * (`http_session`); until its migration ran there is nothing to purge.
 */
export function purgeSessionsProcessor(ctx: JobsContext) {
  return async (): Promise<{ purged: number }> => {
    const [exists]: { t: string | null }[] = await ctx.dataSource.query(`SELECT to_regclass('http_session')::text AS t`);
    if (!exists?.t) return { purged: 0 };
    const [, count]: [unknown, number] = await ctx.dataSource.query(`DELETE FROM http_session WHERE expires_at < $1`, [ctx.clock.now()]);
    return { purged: count };
  };
}
