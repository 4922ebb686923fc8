import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The cart holds per quota as a counter, so that a hold or an order costs the same with 10 live
 * carts as with 10,000 (as quota_usage did for sold tickets). A hold's expiry is rounded up to the
 * minute (cart-reservation.store.ts), so `quota_hold` has one row per quota and minute of expiry,
 * at most the reservation time plus one live rows per quota; the holds of a quota at `now` are
 * the sum of its rows with `expires > now`, exactly the sum over its unexpired cart_reservation
 * rows. Triggers on cart_reservation keep it, whoever writes; a product joining or leaving a quota
 * recounts that quota (rare). Rows that drop to zero are deleted by the trigger; the buckets of
 * expired holds go once their rows are tidied away. kassa_cart_held now reads the counter.
 */
export class QuotaHoldCounter1767500000001 implements MigrationInterface {
  name = 'QuotaHoldCounter1767500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE quota_hold (
        quota_id uuid NOT NULL REFERENCES quota(id) ON DELETE CASCADE,
        expires timestamptz NOT NULL,
        n integer NOT NULL,
        PRIMARY KEY (quota_id, expires)
      );

      CREATE FUNCTION kassa_quota_hold_apply(deltas jsonb) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        -- In (quota id, expiry) order: writers hold the quota locks already, this keeps it tidy anyway.
        INSERT INTO quota_hold AS h (quota_id, expires, n)
        SELECT d.quota_id, d.expires, d.n FROM jsonb_to_recordset(deltas) AS d(quota_id uuid, expires timestamptz, n integer)
         ORDER BY d.quota_id, d.expires
        ON CONFLICT (quota_id, expires) DO UPDATE SET n = h.n + excluded.n;
        DELETE FROM quota_hold h USING jsonb_to_recordset(deltas) AS d(quota_id uuid, expires timestamptz, n integer)
         WHERE h.quota_id = d.quota_id AND h.expires = d.expires AND h.n = 0;
      END $$;

      CREATE FUNCTION kassa_quota_hold_rows() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        deltas jsonb;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          SELECT jsonb_agg(d) INTO deltas FROM (
            SELECT qp.quota_id, c.expires, sum(c.quantity)::integer AS n
              FROM new_rows c JOIN quota_product qp ON qp.product_id = c.product_id GROUP BY qp.quota_id, c.expires) d;
        ELSIF TG_OP = 'DELETE' THEN
          SELECT jsonb_agg(d) INTO deltas FROM (
            SELECT qp.quota_id, c.expires, -sum(c.quantity)::integer AS n
              FROM old_rows c JOIN quota_product qp ON qp.product_id = c.product_id GROUP BY qp.quota_id, c.expires) d;
        ELSE
          SELECT jsonb_agg(d) INTO deltas FROM (
            SELECT qp.quota_id, c.expires, sum(c.quantity)::integer AS n
              FROM (SELECT product_id, expires, quantity FROM new_rows
                    UNION ALL SELECT product_id, expires, -quantity FROM old_rows) c
              JOIN quota_product qp ON qp.product_id = c.product_id
             GROUP BY qp.quota_id, c.expires HAVING sum(c.quantity) <> 0) d;
        END IF;
        IF deltas IS NOT NULL THEN PERFORM kassa_quota_hold_apply(deltas); END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER kassa_quota_hold_insert AFTER INSERT ON cart_reservation
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kassa_quota_hold_rows();
      CREATE TRIGGER kassa_quota_hold_update AFTER UPDATE ON cart_reservation
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kassa_quota_hold_rows();
      CREATE TRIGGER kassa_quota_hold_delete AFTER DELETE ON cart_reservation
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kassa_quota_hold_rows();

      CREATE FUNCTION kassa_quota_hold_recount() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        qid uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.quota_id ELSE NEW.quota_id END;
      BEGIN
        DELETE FROM quota_hold WHERE quota_id = qid;
        INSERT INTO quota_hold (quota_id, expires, n)
        SELECT qid, r.expires, sum(r.quantity)::integer
          FROM cart_reservation r JOIN quota_product qp ON qp.product_id = r.product_id AND qp.quota_id = qid
         GROUP BY r.expires;
        RETURN NULL;
      END $$;
      CREATE TRIGGER kassa_quota_hold_recount AFTER INSERT OR DELETE ON quota_product
        FOR EACH ROW EXECUTE FUNCTION kassa_quota_hold_recount();

      -- Read from the counter now; still volatile PL/pgSQL, so a fresh snapshot after the quota lock.
      CREATE OR REPLACE FUNCTION kassa_cart_held(quota_ids uuid[], at timestamptz, except_cart uuid)
        RETURNS TABLE (quota_id uuid, n integer) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RETURN QUERY
          SELECT h.quota_id, (sum(h.n) - coalesce((
                   SELECT sum(r.quantity) FROM cart_reservation r JOIN quota_product qp ON qp.product_id = r.product_id
                    WHERE r.cart_id = except_cart AND qp.quota_id = h.quota_id AND r.expires > at), 0))::integer
            FROM quota_hold h
           WHERE h.quota_id = ANY(quota_ids) AND h.expires > at
           GROUP BY h.quota_id;
      END $$;

      INSERT INTO quota_hold (quota_id, expires, n)
      SELECT qp.quota_id, r.expires, sum(r.quantity)::integer
        FROM cart_reservation r JOIN quota_product qp ON qp.product_id = r.product_id
       GROUP BY qp.quota_id, r.expires;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION kassa_cart_held(quota_ids uuid[], at timestamptz, except_cart uuid)
        RETURNS TABLE (quota_id uuid, n integer) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RETURN QUERY
          SELECT qp.quota_id, sum(r.quantity)::integer
            FROM quota_product qp JOIN cart_reservation r ON r.product_id = qp.product_id AND r.expires > at
           WHERE qp.quota_id = ANY(quota_ids) AND r.cart_id IS DISTINCT FROM except_cart
           GROUP BY qp.quota_id;
      END $$;
      DROP TRIGGER kassa_quota_hold_recount ON quota_product;
      DROP TRIGGER kassa_quota_hold_delete ON cart_reservation;
      DROP TRIGGER kassa_quota_hold_update ON cart_reservation;
      DROP TRIGGER kassa_quota_hold_insert ON cart_reservation;
      DROP FUNCTION kassa_quota_hold_recount();
      DROP FUNCTION kassa_quota_hold_rows();
      DROP FUNCTION kassa_quota_hold_apply(jsonb);
      DROP TABLE quota_hold;
    `);
  }
}
