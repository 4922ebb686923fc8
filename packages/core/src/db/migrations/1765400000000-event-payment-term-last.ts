import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * pretix's "last date of payments" (payment_term_last), as an absolute date-time per event: after
 * it no payment may be started, a payment arriving later does not mark the order paid (the money
 * is kept and flagged, as for a late payment without quota), and new payment deadlines never lie
 * beyond it. NULL: no last date.
 */
export class EventPaymentTermLast1765400000000 implements MigrationInterface {
  name = 'EventPaymentTermLast1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE event ADD COLUMN payment_term_last timestamptz NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE event DROP COLUMN payment_term_last');
  }
}
