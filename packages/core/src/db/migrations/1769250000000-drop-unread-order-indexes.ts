import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two indexes of kassa_order that no read goes through, while every order placed pays for an entry
 * in each (and its WAL record):
 * - kassa_order_organizer_created (organizer_id, created_at DESC): the keyset index
 *   (organizer_id, created_at, id) of migration 1767800000000 serves the same reads, newest first
 *   by a backward scan (the order search, the dashboard);
 * - kassa_order_email (lower(email)): the order search matches `email ILIKE '%…%'`, which a btree
 *   cannot serve, and the one lower(email) comparison (stored-method.store.ts) reads the order by
 *   its id.
 * A read that needs orders by email later gets the index it needs (a trigram one for the search).
 */
export class DropUnreadOrderIndexes1769250000000 implements MigrationInterface {
  name = 'DropUnreadOrderIndexes1769250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX kassa_order_organizer_created');
    await q.query('DROP INDEX kassa_order_email');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX kassa_order_email ON kassa_order (lower(email))');
    await q.query('CREATE INDEX kassa_order_organizer_created ON kassa_order (organizer_id, created_at DESC)');
  }
}
