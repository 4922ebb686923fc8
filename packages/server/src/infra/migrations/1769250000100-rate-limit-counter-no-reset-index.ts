import type { MigrationInterface, QueryRunner } from '@kassa/core/host';

/**
 * The index on rate_limit_counter.resets_at served only the purge, which each process runs once a
 * minute over a table that holds the keys of the last minute or two. Every hit of a new key paid an
 * entry in it, and every window restart (which moves resets_at) could not be a HOT update because
 * of it; in a rush nearly every buyer is a new key. The purge now reads the table itself.
 */
export class RateLimitCounterNoResetIndex1769250000100 implements MigrationInterface {
  name = 'RateLimitCounterNoResetIndex1769250000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX rate_limit_counter_resets_at');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX rate_limit_counter_resets_at ON rate_limit_counter (resets_at)');
  }
}
