import type { MigrationInterface, QueryRunner } from '@kassa/core/host';

/**
 * The rate-limit counters are unlogged: a count is worth nothing after a crash (Redis without
 * persistence forgets them on a restart too), and every order placed in the shop counts one hit, so
 * a logged table made each of those statements wait for its own WAL flush. A clean restart keeps
 * the table; a crash empties it; replicas do not have it (each database counts its own hits).
 */
export class RateLimitCounterUnlogged1769230000001 implements MigrationInterface {
  name = 'RateLimitCounterUnlogged1769230000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE rate_limit_counter SET UNLOGGED');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE rate_limit_counter SET LOGGED');
  }
}
