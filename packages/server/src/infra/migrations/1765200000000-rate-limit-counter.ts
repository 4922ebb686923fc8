import type { MigrationInterface, QueryRunner } from '@kassa/core/host';

/**
 * Rate-limit counters shared by every server process on the database, for instances without Redis
 * (see infra/rate-limit-store.ts). One row per limited key and window; rows whose window ended are
 * reset in place by the next hit and deleted by the store now and then, hence the index.
 */
export class RateLimitCounter1765200000000 implements MigrationInterface {
  name = 'RateLimitCounter1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rate_limit_counter (
        key text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 512),
        hits bigint NOT NULL CHECK (hits >= 1),
        resets_at timestamptz NOT NULL
      );
      CREATE INDEX rate_limit_counter_resets_at ON rate_limit_counter (resets_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE rate_limit_counter');
  }
}
