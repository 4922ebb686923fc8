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

      -- The holds per quota, read with a FRESH snapshot. A statement that locks the quotas and then
      -- reads the holds in a plain subquery would read them in the snapshot taken when it started,
      -- before it waited for the lock, and miss the holds the previous lock holder committed. A
      -- volatile PL/pgSQL function takes a new snapshot per query (the quota rows themselves are
      -- re-read by the lock), so called after the lock it sees every hold written under that lock.
      CREATE FUNCTION kassa_cart_held(quota_ids uuid[], at timestamptz, except_cart uuid)
        RETURNS TABLE (quota_id uuid, n integer) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RETURN QUERY
          SELECT qp.quota_id, sum(r.quantity)::integer
            FROM quota_product qp JOIN cart_reservation r ON r.product_id = qp.product_id AND r.expires > at
           WHERE qp.quota_id = ANY(quota_ids) AND r.cart_id IS DISTINCT FROM except_cart
           GROUP BY qp.quota_id;
      END $$;
      -- The same, per cart, for the carts of the orders being placed.
      CREATE FUNCTION kassa_cart_held_by(quota_ids uuid[], at timestamptz, carts uuid[])
        RETURNS TABLE (cart_id uuid, quota_id uuid, n integer) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RETURN QUERY
          SELECT r.cart_id, qp.quota_id, sum(r.quantity)::integer
            FROM cart_reservation r JOIN quota_product qp ON qp.product_id = r.product_id
           WHERE r.cart_id = ANY(carts) AND r.expires > at AND qp.quota_id = ANY(quota_ids)
           GROUP BY r.cart_id, qp.quota_id;
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION kassa_cart_held_by(uuid[], timestamptz, uuid[]); DROP FUNCTION kassa_cart_held(uuid[], timestamptz, uuid);
      DROP TABLE cart_reservation; ALTER TABLE event DROP COLUMN reservation_minutes`);
  }
}
