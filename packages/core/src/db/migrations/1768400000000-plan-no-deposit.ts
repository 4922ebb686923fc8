import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payment plans without a deposit (docs/payment-plans.md): nothing is charged at checkout, the
 * buyer only saves a card (a SetupIntent with Stripe) and every instalment is charged on its date.
 */
export class PlanNoDeposit1768400000000 implements MigrationInterface {
  name = 'PlanNoDeposit1768400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE payment_plan_settings ADD COLUMN no_deposit boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE payment_plan_settings DROP COLUMN no_deposit');
  }
}
