import type { MigrationInterface, QueryRunner } from '@kassa/core/host';

/**
 * The one-time key of the control-panel form that started a task: a double-clicked export or
 * shredder form sends the same key twice, and the second submit finds the first task instead of
 * starting another (unique per organizer; API calls have their Idempotency-Key instead).
 */
export class BulkTaskFormKey1768800000001 implements MigrationInterface {
  name = 'BulkTaskFormKey1768800000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE bulk_task ADD COLUMN form_key text CHECK (form_key IS NULL OR length(form_key) BETWEEN 16 AND 64);
      CREATE UNIQUE INDEX bulk_task_form_key ON bulk_task (organizer_id, form_key) WHERE form_key IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX bulk_task_form_key; ALTER TABLE bulk_task DROP COLUMN form_key;');
  }
}
