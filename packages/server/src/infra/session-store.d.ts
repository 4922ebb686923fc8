import type { Session } from 'fastify';
import type { DataSource } from '@kassa/core';
type Callback = (err?: unknown) => void;
type GetCallback = (err: unknown, session?: Session | null) => void;
/**
 * The @fastify/session store on PostgreSQL, table `http_session` (id, data jsonb, expires_at).
 * Expired rows are ignored on read and purged by the jobs package, so the table never needs a
 * sweeper here. Every call is a single statement outside any transaction (PGlite serialises
 * connections, so a session read must never wait behind an open transaction of the same request).
 */
export declare class PgSessionStore {
    private readonly dataSource;
    private readonly now;
    constructor(dataSource: DataSource, now?: () => Date);
    get(sessionId: string, callback: GetCallback): void;
    set(sessionId: string, session: Session, callback: Callback): void;
    destroy(sessionId: string, callback: Callback): void;
}
export {};
