import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CartReserveBatch1767500000002 } from './1767500000002-cart-reserve-batch';

/**
 * kassa_cart_reserve keeps the batch's books in memory. The first version decided each request with
 * its own queries and wrote each hold with its own statements, so every request of a batch paid for
 * half a dozen queries and the quota_hold triggers twice. Now the quotas, the holds of every cart of
 * the batch, the products and the events are read once after the lock; each request is decided in
 * queue order against those books (each as if it had come alone: a hold replaces its cart's old hold
 * in the books before the next request is decided), and the table follows in one DELETE and one
 * INSERT for the whole batch. Same arguments, same rows returned, same locks.
 */
export class CartReserveBooks1769230000000 implements MigrationInterface {
  name = 'CartReserveBooks1769230000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION kassa_cart_reserve(requests jsonb, at timestamptz)
        RETURNS TABLE (idx integer, ok boolean, expires timestamptz, bad text, quotas jsonb)
        LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        r record;
        -- The batch's quotas in id order, read once under the lock: used = sold + every unexpired hold.
        qids uuid[]; qnames text[]; qsizes integer[]; qused integer[];
        -- product → quota position, one pair per quota_product row of the batch's products
        mp uuid[]; mq integer[];
        -- the products that may be held: active, with their event
        vp uuid[]; ve uuid[];
        -- unexpired holds of the batch's carts, per cart and quota position
        hc uuid[]; hq integer[]; hn integer[];
        -- the events' reservation minutes
        evs uuid[]; evm integer[];
        wanted integer[]; mine integer[];
        v_expires timestamptz; v_bad text; v_ok boolean; v_quotas jsonb; v_products text[];
        i integer; k integer; n integer; m integer;
        held jsonb := '[]';
        fc uuid[]; lc uuid[]; lp uuid[]; le uuid[]; lq integer[]; lx timestamptz[];
      BEGIN
        -- Every quota of every product asked for, locked once, in quota id order.
        PERFORM 1 FROM quota q JOIN quota_usage u ON u.quota_id = q.id
          WHERE q.id IN (SELECT qp.quota_id FROM quota_product qp
                          WHERE qp.product_id IN (SELECT (jsonb_array_elements_text(x -> 'products'))::uuid FROM jsonb_array_elements(requests) x))
          ORDER BY q.id
            FOR NO KEY UPDATE OF q, u;
        -- Read after the lock (a volatile function's queries each take a new snapshot), once for the batch.
        SELECT array_agg(q.id ORDER BY q.id), array_agg(q.name ORDER BY q.id), array_agg(q.size ORDER BY q.id),
               array_agg(u.used + coalesce(h.n, 0) ORDER BY q.id)
          INTO qids, qnames, qsizes, qused
          FROM quota q JOIN quota_usage u ON u.quota_id = q.id
          LEFT JOIN kassa_cart_held(ARRAY(SELECT qp.quota_id FROM quota_product qp
                          WHERE qp.product_id IN (SELECT (jsonb_array_elements_text(x -> 'products'))::uuid FROM jsonb_array_elements(requests) x)), at, NULL) h
            ON h.quota_id = q.id
         WHERE q.id IN (SELECT qp.quota_id FROM quota_product qp
                         WHERE qp.product_id IN (SELECT (jsonb_array_elements_text(x -> 'products'))::uuid FROM jsonb_array_elements(requests) x));
        qids := coalesce(qids, '{}');
        SELECT array_agg(qp.product_id), array_agg(array_position(qids, qp.quota_id)) INTO mp, mq
          FROM quota_product qp WHERE qp.quota_id = ANY(qids);
        SELECT array_agg(p.id), array_agg(p.event_id) INTO vp, ve
          FROM product p WHERE p.active AND p.id IN (SELECT (jsonb_array_elements_text(x -> 'products'))::uuid FROM jsonb_array_elements(requests) x);
        SELECT array_agg(b.cart_id), array_agg(array_position(qids, b.quota_id)), array_agg(b.n) INTO hc, hq, hn
          FROM kassa_cart_held_by(qids, at, ARRAY(SELECT (x ->> 'cart_id')::uuid FROM jsonb_array_elements(requests) x)) b;
        SELECT array_agg(e.id), array_agg(e.reservation_minutes) INTO evs, evm
          FROM event e WHERE e.id IN (SELECT (x ->> 'event_id')::uuid FROM jsonb_array_elements(requests) x);
        mp := coalesce(mp, '{}'); mq := coalesce(mq, '{}'); vp := coalesce(vp, '{}'); ve := coalesce(ve, '{}');
        hc := coalesce(hc, '{}'); hq := coalesce(hq, '{}'); hn := coalesce(hn, '{}'); evs := coalesce(evs, '{}'); evm := coalesce(evm, '{}');

        FOR r IN SELECT (x ->> 'idx')::integer AS i, (x ->> 'cart_id')::uuid AS cart_id, (x ->> 'event_id')::uuid AS event_id,
                        array(SELECT jsonb_array_elements_text(x -> 'products'))::uuid[] AS products,
                        array(SELECT jsonb_array_elements_text(x -> 'quantities'))::integer[] AS quantities
                   FROM jsonb_array_elements(requests) x ORDER BY (x ->> 'idx')::integer
        LOOP
          -- Until at + the event's reservation time, rounded up to the minute (the counter's buckets).
          k := array_position(evs, r.event_id);
          v_expires := NULL;
          IF k IS NOT NULL THEN
            v_expires := at + make_interval(mins => evm[k]);
            IF date_trunc('minute', v_expires) <> v_expires THEN v_expires := date_trunc('minute', v_expires) + interval '1 minute'; END IF;
          END IF;
          v_bad := NULL;
          wanted := array_fill(0, ARRAY[greatest(cardinality(qids), 1)]);
          FOR i IN 1 .. coalesce(cardinality(r.products), 0) LOOP
            k := array_position(vp, r.products[i]);
            IF k IS NULL OR ve[k] <> r.event_id OR NOT (r.products[i] = ANY(mp)) THEN
              IF v_bad IS NULL OR r.products[i]::text < v_bad THEN v_bad := r.products[i]::text; END IF;
            END IF;
            FOR k IN 1 .. cardinality(mp) LOOP
              IF mp[k] = r.products[i] THEN wanted[mq[k]] := wanted[mq[k]] + r.quantities[i]; END IF;
            END LOOP;
          END LOOP;
          -- What this cart holds now, per quota: it is replaced, so it does not count against the wish.
          mine := array_fill(0, ARRAY[greatest(cardinality(qids), 1)]);
          FOR k IN 1 .. cardinality(hc) LOOP
            IF hc[k] = r.cart_id THEN mine[hq[k]] := mine[hq[k]] + hn[k]; END IF;
          END LOOP;
          v_ok := v_bad IS NULL AND v_expires IS NOT NULL;
          v_quotas := '[]';
          FOR k IN 1 .. cardinality(qids) LOOP
            v_products := ARRAY[]::text[];
            FOR i IN 1 .. cardinality(mp) LOOP
              IF mq[i] = k AND mp[i] = ANY(r.products) THEN v_products := v_products || mp[i]::text; END IF;
            END LOOP;
            CONTINUE WHEN cardinality(v_products) = 0;
            IF qsizes[k] IS NOT NULL AND wanted[k] > qsizes[k] - (qused[k] - mine[k]) THEN v_ok := false; END IF;
            v_quotas := v_quotas || jsonb_build_object('id', qids[k], 'name', qnames[k], 'size', qsizes[k], 'used', qused[k] - mine[k], 'products', to_jsonb(v_products));
          END LOOP;
          IF v_ok THEN
            -- The cart's new hold replaces its old one in the batch's books and, after the loop, in the table.
            FOR k IN 1 .. cardinality(qids) LOOP
              qused[k] := qused[k] - mine[k] + wanted[k];
            END LOOP;
            m := cardinality(hc);
            FOR k IN 1 .. m LOOP
              IF hc[k] = r.cart_id THEN hn[k] := 0; END IF;
            END LOOP;
            FOR k IN 1 .. cardinality(qids) LOOP
              IF wanted[k] > 0 THEN hc := hc || r.cart_id; hq := hq || k; hn := hn || wanted[k]; END IF;
            END LOOP;
            held := held || jsonb_build_object('i', r.i, 'cart_id', r.cart_id, 'event_id', r.event_id, 'products', to_jsonb(r.products),
                                               'quantities', to_jsonb(r.quantities), 'expires', v_expires);
          END IF;
          idx := r.i; ok := v_ok; expires := v_expires; bad := v_bad; quotas := v_quotas;
          RETURN NEXT;
        END LOOP;

        IF jsonb_array_length(held) > 0 THEN
          -- The table follows the books in two statements for the whole batch, so the quota_hold
          -- triggers run once per statement, not per request. A cart that asked twice keeps its last hold.
          SELECT array_agg(f.cart_id) INTO fc FROM (SELECT DISTINCT (x ->> 'cart_id')::uuid AS cart_id FROM jsonb_array_elements(held) x) f;
          SELECT array_agg(f.cart_id ORDER BY f.cart_id, w.p), array_agg(w.p ORDER BY f.cart_id, w.p), array_agg(f.event_id ORDER BY f.cart_id, w.p),
                 array_agg(w.n ORDER BY f.cart_id, w.p), array_agg(f.expires ORDER BY f.cart_id, w.p)
            INTO lc, lp, le, lq, lx
            FROM (SELECT DISTINCT ON ((x ->> 'cart_id')::uuid) (x ->> 'cart_id')::uuid AS cart_id, (x ->> 'event_id')::uuid AS event_id,
                         array(SELECT jsonb_array_elements_text(x -> 'products'))::uuid[] AS products,
                         array(SELECT jsonb_array_elements_text(x -> 'quantities'))::integer[] AS quantities, (x ->> 'expires')::timestamptz AS expires
                    FROM jsonb_array_elements(held) x ORDER BY (x ->> 'cart_id')::uuid, (x ->> 'i')::integer DESC) f
            CROSS JOIN LATERAL unnest(f.products, f.quantities) AS w(p, n);
          lc := coalesce(lc, '{}'); lp := coalesce(lp, '{}'); le := coalesce(le, '{}'); lq := coalesce(lq, '{}'); lx := coalesce(lx, '{}');
          -- What the carts no longer want, and other carts' expired holds of the same products (tidying, under the same lock).
          DELETE FROM cart_reservation c
           WHERE (c.cart_id = ANY(fc) AND NOT EXISTS (SELECT 1 FROM unnest(lc, lp) AS l(cart_id, product_id) WHERE l.cart_id = c.cart_id AND l.product_id = c.product_id))
              OR (c.expires <= at AND c.product_id = ANY(lp) AND NOT (c.cart_id = ANY(fc)));
          INSERT INTO cart_reservation (cart_id, product_id, event_id, quantity, expires)
          SELECT l.cart_id, l.product_id, l.event_id, l.quantity, l.expires FROM unnest(lc, lp, le, lq, lx) AS l(cart_id, product_id, event_id, quantity, expires)
          ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity, expires = excluded.expires;
          -- A hold is not money: its commit need not wait for the WAL flush (cart-reservation.store.ts).
          PERFORM set_config('synchronous_commit', 'off', true);
        END IF;
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION kassa_cart_reserve(jsonb, timestamptz)');
    await new CartReserveBatch1767500000002().up(q);
  }
}
