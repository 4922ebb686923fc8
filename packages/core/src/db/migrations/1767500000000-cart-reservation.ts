import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cart reservations (pretix's cart positions): the tickets in a buyer's cart are held against their
 * quotas until `expires`. A quota's availability is its size minus the usage counter minus the
 * reservations that have not expired, so an expired row frees its seats the moment it runs out,
 * with no job (rows are only tidied up later, by the next reservation of the same products). Rows
 * are written only while the quotas of their products are locked (cart-reservation.store.ts and the
 * placement statement), in the same order as every other quota writer.
 *
 * `event.reservation_minutes`: how long a cart is held (pretix's default: 30 minutes).
 */
export class CartReservation1767500000000 implements MigrationInterface {
  name = 'CartReservation1767500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE event ADD COLUMN reservation_minutes integer NOT NULL DEFAULT 30
        CHECK (reservation_minutes BETWEEN 1 AND 10080);
      CREATE TABLE cart_reservation (
        cart_id uuid NOT NULL,
        product_id uuid NOT NULL REFERENCES product(id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES event(id) ON DELETE CASCADE,
        quantity integer NOT NULL CHECK (quantity > 0),
        expires timestamptz NOT NULL,
        PRIMARY KEY (cart_id, product_id)
      );
      CREATE INDEX cart_reservation_product_expires ON cart_reservation (product_id, expires) INCLUDE (quantity);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE cart_reservation; ALTER TABLE event DROP COLUMN reservation_minutes');
  }
}
