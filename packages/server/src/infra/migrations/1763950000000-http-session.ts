import type { MigrationInterface, QueryRunner } from '@kassa/core/host';

/**
 * Control-panel and buyer sessions (the server's PostgreSQL-backed @fastify/session store).
 * `expires_at` is indexed because the jobs package purges expired rows in batches.
 */
export class HttpSession1763950000000 implements MigrationInterface {
  name = 'HttpSession1763950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE http_session (
        id text PRIMARY KEY CHECK (length(id) BETWEEN 16 AND 128),
        data jsonb NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX http_session_expires ON http_session (expires_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE http_session');
  }
}
