import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the exports' pages (persistence/export-rows.ts): the next orders of an organizer or
 * of an event after (created_at, id), read as an index range instead of a sort of all their orders
 * for every page.
 */
export class ExportKeysetIndexes1767800000000 implements MigrationInterface {
  name = 'ExportKeysetIndexes1767800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX kassa_order_organizer_keyset ON kassa_order (organizer_id, created_at, id)');
    await q.query('CREATE INDEX kassa_order_event_keyset ON kassa_order (event_id, created_at, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX kassa_order_event_keyset');
    await q.query('DROP INDEX kassa_order_organizer_keyset');
  }
}
