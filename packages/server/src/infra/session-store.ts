import type { Session } from 'fastify';
import type { DataSource } from '@kassa/core';

type Callback = (err?: unknown) => void;
type GetCallback = (err: unknown, session?: Session | null) => void;

/** Sessions without an explicit expiry (should not happen: cookies get maxAge) live this long. */
const fallbackTtlMs = 24 * 60 * 60 * 1000;

/**
 * The @fastify/session store on PostgreSQL, table `http_session` (id, data jsonb, expires_at).
 * Expired rows are ignored on read and purged by the jobs package, so the table never needs a
 * sweeper here. Every call is a single statement outside any transaction (PGlite serialises
 * connections, so a session read must never wait behind an open transaction of the same request).
 */
export class PgSessionStore {
  constructor(private readonly dataSource: DataSource, private readonly now: () => Date = () => new Date()) {}

  get(sessionId: string, callback: GetCallback): void {
    this.dataSource
      .query('SELECT data FROM http_session WHERE id = $1 AND expires_at > $2', [sessionId, this.now()])
      .then((rows: { data: Session }[]) => callback(null, rows[0]?.data ?? null), (err: unknown) => callback(err));
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const rawExpires = (session as { cookie?: { expires?: Date | string | null } }).cookie?.expires;
    const expires = rawExpires ? new Date(rawExpires) : new Date(this.now().getTime() + fallbackTtlMs);
    this.dataSource
      .query(
        `INSERT INTO http_session (id, data, expires_at) VALUES ($1, $2::jsonb, $3)
         ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
        [sessionId, JSON.stringify(session), expires],
      )
      .then(() => callback(), (err: unknown) => callback(err));
  }

  destroy(sessionId: string, callback: Callback): void {
    this.dataSource.query('DELETE FROM http_session WHERE id = $1', [sessionId]).then(() => callback(), (err: unknown) => callback(err));
  }
}
