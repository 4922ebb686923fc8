import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cart reservations decided in batches, like orders (placement-batch.ts): on a hot quota every hold
 * needs the same row lock, and a queue of single statements pays a lock handover (a wake-up, a
 * re-check of the locked rows) per hold. kassa_cart_reserve takes the quota locks once, in quota id
 * order, for all requests of the batch, then decides them one by one in queue order exactly as if
 * they had come alone (each query of a volatile PL/pgSQL function sees the holds written by the ones
 * before it, and the holds committed by earlier lock holders). Each request holds exactly its lines
 * for its cart (replacing what the cart held) until `at` + the event's reservation time rounded up
 * to the minute, or changes nothing and returns the quotas as it saw them.
 */
export class CartReserveBatch1767500000002 implements MigrationInterface {
  name = 'CartReserveBatch1767500000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION kassa_cart_reserve(requests jsonb, at timestamptz)
        RETURNS TABLE (idx integer, ok boolean, expires timestamptz, bad text, quotas jsonb)
        LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        r record;
        v_expires timestamptz;
        v_bad text;
        v_ok boolean;
        v_quotas jsonb;
        any_ok boolean := false;
      BEGIN
        -- Every quota of every product asked for, locked once, in quota id order.
        PERFORM 1 FROM quota q JOIN quota_usage u ON u.quota_id = q.id
          WHERE q.id IN (SELECT qp.quota_id FROM quota_product qp
                          WHERE qp.product_id IN (SELECT (jsonb_array_elements_text(x -> 'products'))::uuid FROM jsonb_array_elements(requests) x))
          ORDER BY q.id
            FOR NO KEY UPDATE OF q, u;
        FOR r IN SELECT (x ->> 'idx')::integer AS i, (x ->> 'cart_id')::uuid AS cart_id, (x ->> 'event_id')::uuid AS event_id,
                        array(SELECT jsonb_array_elements_text(x -> 'products'))::uuid[] AS products,
                        array(SELECT jsonb_array_elements_text(x -> 'quantities'))::integer[] AS quantities
                   FROM jsonb_array_elements(requests) x ORDER BY (x ->> 'idx')::integer
        LOOP
          SELECT date_trunc('minute', t.t) + CASE WHEN date_trunc('minute', t.t) = t.t THEN interval '0' ELSE interval '1 minute' END
            INTO v_expires
            FROM event e CROSS JOIN LATERAL (SELECT at + make_interval(mins => e.reservation_minutes) AS t) t WHERE e.id = r.event_id;
          SELECT min(w.p::text) INTO v_bad FROM unnest(r.products) AS w(p)
           WHERE NOT EXISTS (SELECT 1 FROM product p WHERE p.id = w.p AND p.event_id = r.event_id AND p.active)
              OR NOT EXISTS (SELECT 1 FROM quota_product qp WHERE qp.product_id = w.p);
          WITH want AS (SELECT w.p AS product_id, w.n AS quantity FROM unnest(r.products, r.quantities) AS w(p, n)),
               qs AS (SELECT DISTINCT qp.quota_id FROM quota_product qp WHERE qp.product_id IN (SELECT product_id FROM want)),
               held AS (SELECT h.quota_id, h.n FROM kassa_cart_held((SELECT array_agg(quota_id) FROM qs), at, r.cart_id) h),
               need AS (
                 SELECT q.id, q.name, q.size, u.used + coalesce(h.n, 0) AS used,
                        array(SELECT qp.product_id::text FROM quota_product qp WHERE qp.quota_id = q.id AND qp.product_id IN (SELECT product_id FROM want)) AS products,
                        (SELECT coalesce(sum(w.quantity), 0)::integer FROM want w JOIN quota_product qp ON qp.product_id = w.product_id AND qp.quota_id = q.id) AS wanted
                   FROM quota q JOIN quota_usage u ON u.quota_id = q.id LEFT JOIN held h ON h.quota_id = q.id
                  WHERE q.id IN (SELECT quota_id FROM qs))
          SELECT NOT EXISTS (SELECT 1 FROM need WHERE size IS NOT NULL AND wanted > size - used),
                 coalesce(jsonb_agg(jsonb_build_object('id', id, 'name', name, 'size', size, 'used', used, 'products', products)), '[]')
            INTO v_ok, v_quotas FROM need;
          v_ok := v_ok AND v_bad IS NULL AND v_expires IS NOT NULL;
          IF v_ok THEN
            any_ok := true;
            DELETE FROM cart_reservation c
             WHERE (c.cart_id = r.cart_id AND c.product_id <> ALL(r.products))
                OR (c.cart_id <> r.cart_id AND c.expires <= at AND c.product_id = ANY(r.products));
            INSERT INTO cart_reservation (cart_id, product_id, event_id, quantity, expires)
            SELECT r.cart_id, w.p, r.event_id, w.n, v_expires FROM unnest(r.products, r.quantities) AS w(p, n)
            ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity, expires = excluded.expires;
          END IF;
          idx := r.i; ok := v_ok; expires := v_expires; bad := v_bad; quotas := v_quotas;
          RETURN NEXT;
        END LOOP;
        -- A hold is not money: its commit need not wait for the WAL flush (cart-reservation.store.ts).
        IF any_ok THEN PERFORM set_config('synchronous_commit', 'off', true); END IF;
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION kassa_cart_reserve(jsonb, timestamptz)');
  }
}
