import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quotaTriggerSql } from '../../persistence/quota-trigger';

/**
 * The quota counter's trigger functions and the order status trigger, recreated with the states
 * whose positions hold quota generated from the order machine's set `quotaHolding` (same states
 * as the hand-written lists of migration 1764000000000, so the same behaviour; the seqscan setting
 * of migration 1764100000001 is kept). Should the set change, a new migration runs
 * quotaTriggerSql() again; the test quota-trigger-set.db.test.ts fails until one does.
 */
export class QuotaTriggerFromSets1766000000000 implements MigrationInterface {
  name = 'QuotaTriggerFromSets1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(quotaTriggerSql());
  }

  async down(): Promise<void> {
    // The functions before this migration counted the same states: there is nothing to undo.
  }
}
