import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Instance operators: the people who run the instance (configuration, workers, instance-wide
 * jobs), as opposed to organizers' teams. A flag on the user, set from the command line
 * (`pnpm operator grant <email>`); nothing in the control panel grants it.
 */
export class UserOperator1765300000000 implements MigrationInterface {
  name = 'UserOperator1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE app_user ADD COLUMN is_operator boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE app_user DROP COLUMN is_operator');
  }
}
