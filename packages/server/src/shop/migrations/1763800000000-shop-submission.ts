import type { MigrationInterface, QueryRunner } from '@kassa/core/host';

/**
 * The shop's idempotency ledger: one row per buyer form submission that places an order or starts
 * a payment. The token comes from the form, so a double click (or a reload of the POST) finds the
 * row and answers with the first submission's result instead of placing a second order.
 */
export class ShopSubmission1763800000000 implements MigrationInterface {
  name = 'ShopSubmission1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE shop_submission (
        token uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('place_order', 'pay')),
        -- sha256 of the session id: a token replayed from another browser is refused, never answered
        -- with someone else's order link.
        owner_hash text NOT NULL,
        order_id uuid REFERENCES kassa_order(id) ON DELETE CASCADE,
        redirect text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX shop_submission_created ON shop_submission (created_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE shop_submission');
  }
}
