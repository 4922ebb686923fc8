import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CartReserveBooks1769230000000 } from './1769230000000-cart-reserve-books';

/**
 * A reservation with fewer statements inside PostgreSQL. Every statement a PL/pgSQL function runs
 * pays for a snapshot, an executor start-up and shut-down, and a trip through SPI, which on a short
 * statement costs more than the statement's own work.
 *
 * - kassa_cart_reserve reads its books (quotas with their holds, products per quota, the products
 *   that may be held, the carts' own holds, the events' reservation minutes) in one statement after
 *   the lock instead of five, and reads the hold counter and the carts' holds directly instead of
 *   through kassa_cart_held and kassa_cart_held_by (each a function call with a statement of its
 *   own). A statement of a volatile function takes its snapshot when it starts, after the lock
 *   statement, so it sees every hold written under the lock: the reason those functions exist is
 *   the single-statement callers (placement, quota checks), which keep them. The table follows the
 *   books in one statement (the DELETE as a data-modifying CTE of the INSERT: the two never touch the
 *   same row), and the synchronous_commit switch is an expression, not a query.
 * - The quota_hold statement triggers apply their deltas in one upsert instead of aggregating them
 *   to jsonb and calling kassa_quota_hold_apply (an aggregate, a call, an upsert and a delete). The
 *   upsert returns the buckets it changed; only when one came to zero is the delete run, for those.
 *
 * Same arguments, same rows returned, same locks in the same order, same rows written, same counter.
 */
const reserve = `
  CREATE OR REPLACE FUNCTION kassa_cart_reserve(requests jsonb, at timestamptz)
    RETURNS TABLE (idx integer, ok boolean, expires timestamptz, bad text, quotas jsonb)
    LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
  DECLARE
    r record;
    -- The batch's quotas in id order, read once under the lock: used = sold + every unexpired hold.
    qids uuid[]; qnames text[]; qsizes integer[]; qused integer[];
    -- product → quota position, one pair per quota_product row of the batch's quotas
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
    v_setting text;
  BEGIN
    -- Every quota of every product asked for, locked once, in quota id order.
    PERFORM 1 FROM quota q JOIN quota_usage u ON u.quota_id = q.id
      WHERE q.id IN (SELECT qp.quota_id FROM quota_product qp
                      WHERE qp.product_id IN (SELECT (jsonb_array_elements_text(x -> 'products'))::uuid FROM jsonb_array_elements(requests) x))
      ORDER BY q.id
        FOR NO KEY UPDATE OF q, u;
    -- The books, read once for the batch, in one statement whose snapshot is taken after the lock.
    WITH ask AS MATERIALIZED (
           SELECT DISTINCT (jsonb_array_elements_text(x -> 'products'))::uuid AS product_id FROM jsonb_array_elements(requests) x),
         qa AS MATERIALIZED (
           SELECT coalesce(array_agg(q.id ORDER BY q.id), '{}') AS ids, coalesce(array_agg(q.name ORDER BY q.id), '{}') AS names,
                  coalesce(array_agg(q.size ORDER BY q.id), '{}') AS sizes,
                  coalesce(array_agg(u.used + coalesce((SELECT sum(h.n) FROM quota_hold h WHERE h.quota_id = q.id AND h.expires > at), 0)::integer
                                     ORDER BY q.id), '{}') AS used
             FROM quota q JOIN quota_usage u ON u.quota_id = q.id
            WHERE q.id IN (SELECT qp.quota_id FROM quota_product qp WHERE qp.product_id IN (SELECT product_id FROM ask)))
    SELECT qa.ids, qa.names, qa.sizes, qa.used, pa.mp, pa.mq, va.vp, va.ve, ha.hc, ha.hq, ha.hn, ea.evs, ea.evm
      INTO qids, qnames, qsizes, qused, mp, mq, vp, ve, hc, hq, hn, evs, evm
      FROM qa
     CROSS JOIN LATERAL (
           SELECT coalesce(array_agg(qp.product_id), '{}') AS mp, coalesce(array_agg(array_position(qa.ids, qp.quota_id)), '{}') AS mq
             FROM quota_product qp WHERE qp.quota_id = ANY(qa.ids)) pa
     CROSS JOIN (
           SELECT coalesce(array_agg(p.id), '{}') AS vp, coalesce(array_agg(p.event_id), '{}') AS ve
             FROM product p WHERE p.active AND p.id IN (SELECT product_id FROM ask)) va
     CROSS JOIN LATERAL (
           SELECT coalesce(array_agg(b.cart_id), '{}') AS hc, coalesce(array_agg(array_position(qa.ids, b.quota_id)), '{}') AS hq,
                  coalesce(array_agg(b.n), '{}') AS hn
             FROM (SELECT c.cart_id, qp.quota_id, sum(c.quantity)::integer AS n
                     FROM cart_reservation c JOIN quota_product qp ON qp.product_id = c.product_id
                    WHERE c.cart_id = ANY(ARRAY(SELECT (x ->> 'cart_id')::uuid FROM jsonb_array_elements(requests) x))
                      AND c.expires > at AND qp.quota_id = ANY(qa.ids)
                    GROUP BY c.cart_id, qp.quota_id) b) ha
     CROSS JOIN (
           SELECT coalesce(array_agg(e.id), '{}') AS evs, coalesce(array_agg(e.reservation_minutes), '{}') AS evm
             FROM event e WHERE e.id IN (SELECT (x ->> 'event_id')::uuid FROM jsonb_array_elements(requests) x)) ea;

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
      -- A cart that asked twice keeps its last hold.
      SELECT (SELECT array_agg(DISTINCT (x ->> 'cart_id')::uuid) FROM jsonb_array_elements(held) x),
             coalesce(array_agg(f.cart_id ORDER BY f.cart_id, w.p), '{}'), coalesce(array_agg(w.p ORDER BY f.cart_id, w.p), '{}'),
             coalesce(array_agg(f.event_id ORDER BY f.cart_id, w.p), '{}'), coalesce(array_agg(w.n ORDER BY f.cart_id, w.p), '{}'),
             coalesce(array_agg(f.expires ORDER BY f.cart_id, w.p), '{}')
        INTO fc, lc, lp, le, lq, lx
        FROM (SELECT DISTINCT ON ((x ->> 'cart_id')::uuid) (x ->> 'cart_id')::uuid AS cart_id, (x ->> 'event_id')::uuid AS event_id,
                     array(SELECT jsonb_array_elements_text(x -> 'products'))::uuid[] AS products,
                     array(SELECT jsonb_array_elements_text(x -> 'quantities'))::integer[] AS quantities, (x ->> 'expires')::timestamptz AS expires
                FROM jsonb_array_elements(held) x ORDER BY (x ->> 'cart_id')::uuid, (x ->> 'i')::integer DESC) f
        CROSS JOIN LATERAL unnest(f.products, f.quantities) AS w(p, n);
      -- One statement for the whole batch: what the carts no longer want and other carts' expired
      -- holds of the same products go (tidying, under the same lock), the carts' lines are upserted.
      -- The two sets of rows are disjoint, so the order in which PostgreSQL runs them does not matter.
      -- The quota_hold triggers run once per kind of change, as with two statements.
      WITH gone AS (
        DELETE FROM cart_reservation c
         WHERE (c.cart_id = ANY(fc) AND NOT EXISTS (SELECT 1 FROM unnest(lc, lp) AS l(cart_id, product_id) WHERE l.cart_id = c.cart_id AND l.product_id = c.product_id))
            OR (c.expires <= at AND c.product_id = ANY(lp) AND NOT (c.cart_id = ANY(fc))))
      INSERT INTO cart_reservation (cart_id, product_id, event_id, quantity, expires)
      SELECT l.cart_id, l.product_id, l.event_id, l.quantity, l.expires FROM unnest(lc, lp, le, lq, lx) AS l(cart_id, product_id, event_id, quantity, expires)
      ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity, expires = excluded.expires;
      -- A hold is not money: its commit need not wait for the WAL flush (cart-reservation.store.ts).
      v_setting := set_config('synchronous_commit', 'off', true);
    END IF;
  END $$;
`;

/** The quota_hold triggers' function: the deltas of one statement's rows, applied in one upsert. */
const holdRows = `
  CREATE OR REPLACE FUNCTION kassa_quota_hold_rows() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    zq uuid[]; ze timestamptz[];
  BEGIN
    -- In (quota id, expiry) order: writers hold the quota locks already, this keeps it tidy anyway.
    -- The upsert returns every bucket it changed; those that came to zero are deleted after it.
    IF TG_OP = 'INSERT' THEN
      WITH u AS (
        INSERT INTO quota_hold AS h (quota_id, expires, n)
        SELECT qp.quota_id, c.expires, sum(c.quantity)::integer
          FROM new_rows c JOIN quota_product qp ON qp.product_id = c.product_id
         GROUP BY qp.quota_id, c.expires ORDER BY qp.quota_id, c.expires
        ON CONFLICT (quota_id, expires) DO UPDATE SET n = h.n + excluded.n
        RETURNING h.quota_id, h.expires, h.n)
      SELECT array_agg(u.quota_id), array_agg(u.expires) INTO zq, ze FROM u WHERE u.n = 0;
    ELSIF TG_OP = 'DELETE' THEN
      WITH u AS (
        INSERT INTO quota_hold AS h (quota_id, expires, n)
        SELECT qp.quota_id, c.expires, -sum(c.quantity)::integer
          FROM old_rows c JOIN quota_product qp ON qp.product_id = c.product_id
         GROUP BY qp.quota_id, c.expires ORDER BY qp.quota_id, c.expires
        ON CONFLICT (quota_id, expires) DO UPDATE SET n = h.n + excluded.n
        RETURNING h.quota_id, h.expires, h.n)
      SELECT array_agg(u.quota_id), array_agg(u.expires) INTO zq, ze FROM u WHERE u.n = 0;
    ELSE
      WITH u AS (
        INSERT INTO quota_hold AS h (quota_id, expires, n)
        SELECT qp.quota_id, c.expires, sum(c.quantity)::integer
          FROM (SELECT product_id, expires, quantity FROM new_rows
                UNION ALL SELECT product_id, expires, -quantity FROM old_rows) c
          JOIN quota_product qp ON qp.product_id = c.product_id
         GROUP BY qp.quota_id, c.expires HAVING sum(c.quantity) <> 0 ORDER BY qp.quota_id, c.expires
        ON CONFLICT (quota_id, expires) DO UPDATE SET n = h.n + excluded.n
        RETURNING h.quota_id, h.expires, h.n)
      SELECT array_agg(u.quota_id), array_agg(u.expires) INTO zq, ze FROM u WHERE u.n = 0;
    END IF;
    IF zq IS NOT NULL THEN
      DELETE FROM quota_hold h USING unnest(zq, ze) AS z(quota_id, expires)
       WHERE h.quota_id = z.quota_id AND h.expires = z.expires AND h.n = 0;
    END IF;
    RETURN NULL;
  END $$;
`;

/** The trigger function as migration 1767500000001 made it. */
const holdRowsBefore = `
  CREATE OR REPLACE FUNCTION kassa_quota_hold_rows() RETURNS trigger LANGUAGE plpgsql AS $$
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
`;

export class CartReserveFewerStatements1769300000000 implements MigrationInterface {
  name = 'CartReserveFewerStatements1769300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(reserve);
    await q.query(holdRows);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(holdRowsBefore);
    await new CartReserveBooks1769230000000().up(q);
    // CREATE OR REPLACE replaced the function's settings too (migration 1769230000002's).
    await q.query('ALTER FUNCTION kassa_cart_reserve(jsonb, timestamptz) SET plan_cache_mode = force_generic_plan');
  }
}
