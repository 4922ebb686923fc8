import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The pending step (created → pending, once per order placed with a deferred provider) becomes a
 * HOT update: the new row version stays on its page and no index gets a new entry.
 *
 * - order_payment_provider_state (provider, state) is replaced by (provider, created_at). An index
 *   that names `state` anywhere, even only in a partial index's predicate, makes every state change
 *   a non-HOT update with an entry in each of the table's indexes. The two reads that go by
 *   provider (a provider's open payments in a window of creation times: the bank transfer
 *   matching, the payment reminder mails) bound `created_at` and order by it, so the new index
 *   serves them at least as well; their `state` condition is checked on the rows it finds.
 * - fillfactor 90 leaves room on each page for the pending version of the rows just inserted
 *   there: payments are inserted in creation order and pend moments later, when their page is
 *   usually already full.
 */
export class PaymentPendingHot1769280000000 implements MigrationInterface {
  name = 'PaymentPendingHot1769280000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX order_payment_provider_created ON order_payment (provider, created_at)');
    await q.query('DROP INDEX order_payment_provider_state');
    await q.query('ALTER TABLE order_payment SET (fillfactor = 90)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE order_payment RESET (fillfactor)');
    await q.query('CREATE INDEX order_payment_provider_state ON order_payment (provider, state)');
    await q.query('DROP INDEX order_payment_provider_created');
  }
}
