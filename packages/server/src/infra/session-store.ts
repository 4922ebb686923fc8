import type { Session } from 'fastify';
import { prepared, queryPrepared, type DataSource } from '@kassa/core/host';
import type { MaintenanceTask } from '@kassa/jobs';

type Callback = (err?: unknown) => void;
type GetCallback = (err: unknown, session?: Session | null) => void;

/** Sessions without an explicit expiry (should not happen: cookies get maxAge) live this long. */
const fallbackTtlMs = 24 * 60 * 60 * 1000;

// Named prepared statements: every page reads the session and every form post writes it, so each
// is parsed and planned once per connection, and sent past TypeORM's query runner.
const getSql = prepared('session_get', 'SELECT data FROM http_session WHERE id = $1 AND expires_at > $2');
const setSql = prepared('session_set', `INSERT INTO http_session (id, data, expires_at) VALUES ($1, $2::jsonb, $3)
  ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`);
const destroySql = prepared('session_destroy', 'DELETE FROM http_session WHERE id = $1');

/**
 * The @fastify/session store on PostgreSQL, table `http_session` (id, data jsonb, expires_at).
 * Expired rows are ignored on read and purged by the jobs package, so the table never needs a
 * sweeper here. Every call is a single statement outside any transaction (PGlite serialises
 * connections, so a session read must never wait behind an open transaction of the same request).
 */
export class PgSessionStore {
  constructor(private readonly dataSource: DataSource, private readonly now: () => Date = () => new Date()) {}

  get(sessionId: string, callback: GetCallback): void {
    queryPrepared<{ data: Session }>(this.dataSource.manager, getSql, [sessionId, this.now()])
      .then((rows) => callback(null, rows[0]?.data ?? null), (err: unknown) => callback(err));
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const rawExpires = (session as { cookie?: { expires?: Date | string | null } }).cookie?.expires;
    const expires = rawExpires ? new Date(rawExpires) : new Date(this.now().getTime() + fallbackTtlMs);
    queryPrepared(this.dataSource.manager, setSql, [sessionId, JSON.stringify(session), expires])
      .then(() => callback(), (err: unknown) => callback(err));
  }

  destroy(sessionId: string, callback: Callback): void {
    queryPrepared(this.dataSource.manager, destroySql, [sessionId]).then(() => callback(), (err: unknown) => callback(err));
  }
}

/**
 * Deletes expired sessions (the jobs package's maintenance task calls it through the host's
 * maintenance hook) and returns how many went. A database without the server's migrations (a
 * worker-only test harness) has no sessions to purge.
 */
export async function purgeExpiredSessions(dataSource: DataSource, now: Date): Promise<number> {
  const [exists]: { t: string | null }[] = await dataSource.query(`SELECT to_regclass('http_session')::text AS t`);
  if (!exists?.t) return 0;
  const [, count]: [unknown, number] = await dataSource.query('DELETE FROM http_session WHERE expires_at < $1', [now]);
  return count;
}

/**
 * The hourly purge as a jobs maintenance task, for the composition root to hand to the jobs
 * runtime. Its name is the scheduler id of jobs' former purge-sessions job: never rename it.
 */
export function sessionPurgeTask(dataSource: DataSource): MaintenanceTask {
  return {
    name: 'purge-sessions',
    everyMs: 3_600_000,
    async run({ now }) {
      return { purged: await purgeExpiredSessions(dataSource, now) };
    },
  };
}
