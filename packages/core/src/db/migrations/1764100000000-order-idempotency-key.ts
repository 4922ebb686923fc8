import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An optional idempotency key per order, unique per event: placeOrder given a key that an order
 * of the event already carries places nothing and returns that order. The shop passes one per
 * confirm form, so a double submit cannot place two orders, and the key is checked by the order's
 * own INSERT (ON CONFLICT) instead of a separate ledger row written in a transaction of its own.
 * Partial index: orders without a key (control panel, API without the header) cost nothing.
 */
export class OrderIdempotencyKey1764100000000 implements MigrationInterface {
  name = 'OrderIdempotencyKey1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE kassa_order ADD COLUMN idempotency_key text NULL
        CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 200);
      CREATE UNIQUE INDEX kassa_order_idempotency_key ON kassa_order (event_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX kassa_order_idempotency_key;
      ALTER TABLE kassa_order DROP COLUMN idempotency_key;
    `);
  }
}
