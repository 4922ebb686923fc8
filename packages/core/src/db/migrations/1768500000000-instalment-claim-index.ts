import type { MigrationInterface, QueryRunner } from 'typeorm';
import { instalmentMachine } from '../../plan/instalment.machine';

/**
 * The charge run's claim (persistence/charge-run.store.ts) reads due instalments in the order of
 * next_attempt_at. The index of migration 1767300000000 holds every instalment, paid ones included,
 * so each claim stepped over all instalments ever paid; this one holds only the due ones (the
 * instalment machine's set `due`, the claim's own predicate). Should the set change, a new
 * migration recreates it; until then the planner falls back to the full index.
 */
export class InstalmentClaimIndex1768500000000 implements MigrationInterface {
  name = 'InstalmentClaimIndex1768500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX plan_instalment_claimable ON plan_instalment (next_attempt_at, id) WHERE ${instalmentMachine.sqlIn('due', 'state')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX plan_instalment_claimable');
  }
}
