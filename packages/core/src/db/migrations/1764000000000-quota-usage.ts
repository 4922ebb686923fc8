import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A usage counter per quota, so that placing an order checks quota in constant time instead of
 * counting every live position of the quota under its lock (which grew with every ticket sold).
 *
 * `quota_usage.used` is, at every commit, the number of non-canceled positions of pending and
 * paid orders whose product is in the quota: the same definition as quota-check.ts and the shop's
 * availability. Triggers keep it so on every path that changes whether a position counts (an
 * order expiring, being canceled, extended, revived or paid late; positions inserted, canceled,
 * moved or deleted; products added to or removed from a quota), whoever writes: the services, the
 * control panel, a job, a fixture or an operator in psql. Counting is done by the database so no
 * code path can forget it. Counter rows are always changed in quota id order (through
 * kassa_quota_usage_add), the order reserveQuota locks them in, so two writers never deadlock.
 * The order trigger fires only when the status moves in or out of (pending, paid), so the hot
 * confirmation path (pending → paid) never touches the counter.
 */
export class QuotaUsage1764000000000 implements MigrationInterface {
  name = 'QuotaUsage1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE quota_usage (
        quota_id uuid PRIMARY KEY REFERENCES quota(id) ON DELETE CASCADE ON UPDATE CASCADE,
        used integer NOT NULL DEFAULT 0
      );

      CREATE FUNCTION kassa_quota_usage_add(ids uuid[], deltas integer[]) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        -- ids come sorted: rows are locked in quota id order, like reserveQuota does.
        FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
          UPDATE quota_usage SET used = used + deltas[i] WHERE quota_id = ids[i];
        END LOOP;
      END $$;

      CREATE FUNCTION kassa_quota_usage_new_quota() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO quota_usage (quota_id, used) VALUES (NEW.id, 0);
        RETURN NULL;
      END $$;
      CREATE TRIGGER kassa_quota_usage_new_quota AFTER INSERT ON quota
        FOR EACH ROW EXECUTE FUNCTION kassa_quota_usage_new_quota();

      -- A product joining or leaving a quota changes what it covers: recount that quota (rare).
      CREATE FUNCTION kassa_quota_usage_recount() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        qid uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.quota_id ELSE NEW.quota_id END;
      BEGIN
        UPDATE quota_usage u SET used = (
          SELECT count(*) FROM quota_product qp
            JOIN order_position op ON op.product_id = qp.product_id AND NOT op.canceled
            JOIN kassa_order o ON o.id = op.order_id AND o.status IN ('pending', 'paid')
           WHERE qp.quota_id = qid)
         WHERE u.quota_id = qid;
        RETURN NULL;
      END $$;
      CREATE TRIGGER kassa_quota_usage_recount AFTER INSERT OR DELETE ON quota_product
        FOR EACH ROW EXECUTE FUNCTION kassa_quota_usage_recount();

      -- An order's status moving in or out of (pending, paid) adds or removes its live positions.
      CREATE FUNCTION kassa_quota_usage_order_status() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        direction integer := CASE WHEN NEW.status IN ('pending', 'paid') THEN 1 ELSE -1 END;
        ids uuid[];
        deltas integer[];
      BEGIN
        SELECT array_agg(d.quota_id ORDER BY d.quota_id), array_agg(d.n * direction ORDER BY d.quota_id) INTO ids, deltas
          FROM (SELECT qp.quota_id, count(*)::integer AS n
                  FROM order_position op JOIN quota_product qp ON qp.product_id = op.product_id
                 WHERE op.order_id = NEW.id AND NOT op.canceled
                 GROUP BY qp.quota_id) d;
        PERFORM kassa_quota_usage_add(ids, deltas);
        RETURN NULL;
      END $$;
      CREATE TRIGGER kassa_quota_usage_order_status AFTER UPDATE OF status ON kassa_order
        FOR EACH ROW WHEN ((OLD.status IN ('pending', 'paid')) IS DISTINCT FROM (NEW.status IN ('pending', 'paid')))
        EXECUTE FUNCTION kassa_quota_usage_order_status();

      -- Positions: statement-level with transition tables, so a multi-position order is one call.
      CREATE FUNCTION kassa_quota_usage_positions() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        ids uuid[];
        deltas integer[];
      BEGIN
        IF TG_OP = 'INSERT' THEN
          SELECT array_agg(d.quota_id ORDER BY d.quota_id), array_agg(d.n ORDER BY d.quota_id) INTO ids, deltas
            FROM (SELECT qp.quota_id, count(*)::integer AS n
                    FROM new_positions p
                    JOIN kassa_order o ON o.id = p.order_id AND o.status IN ('pending', 'paid')
                    JOIN quota_product qp ON qp.product_id = p.product_id
                   WHERE NOT p.canceled
                   GROUP BY qp.quota_id) d;
        ELSIF TG_OP = 'DELETE' THEN
          SELECT array_agg(d.quota_id ORDER BY d.quota_id), array_agg(-d.n ORDER BY d.quota_id) INTO ids, deltas
            FROM (SELECT qp.quota_id, count(*)::integer AS n
                    FROM old_positions p
                    JOIN kassa_order o ON o.id = p.order_id AND o.status IN ('pending', 'paid')
                    JOIN quota_product qp ON qp.product_id = p.product_id
                   WHERE NOT p.canceled
                   GROUP BY qp.quota_id) d;
        ELSE
          SELECT array_agg(d.quota_id ORDER BY d.quota_id), array_agg(d.n ORDER BY d.quota_id) INTO ids, deltas
            FROM (SELECT qp.quota_id, sum(c.sign)::integer AS n
                    FROM (SELECT order_id, product_id, 1 AS sign FROM new_positions WHERE NOT canceled
                          UNION ALL
                          SELECT order_id, product_id, -1 FROM old_positions WHERE NOT canceled) c
                    JOIN kassa_order o ON o.id = c.order_id AND o.status IN ('pending', 'paid')
                    JOIN quota_product qp ON qp.product_id = c.product_id
                   GROUP BY qp.quota_id
                  HAVING sum(c.sign) <> 0) d;
        END IF;
        PERFORM kassa_quota_usage_add(ids, deltas);
        RETURN NULL;
      END $$;
      CREATE TRIGGER kassa_quota_usage_positions_insert AFTER INSERT ON order_position
        REFERENCING NEW TABLE AS new_positions FOR EACH STATEMENT EXECUTE FUNCTION kassa_quota_usage_positions();
      CREATE TRIGGER kassa_quota_usage_positions_update AFTER UPDATE ON order_position
        REFERENCING OLD TABLE AS old_positions NEW TABLE AS new_positions FOR EACH STATEMENT EXECUTE FUNCTION kassa_quota_usage_positions();
      CREATE TRIGGER kassa_quota_usage_positions_delete AFTER DELETE ON order_position
        REFERENCING OLD TABLE AS old_positions FOR EACH STATEMENT EXECUTE FUNCTION kassa_quota_usage_positions();

      -- Backfill: every existing quota, counted the way quota-check.ts counted.
      INSERT INTO quota_usage (quota_id, used)
      SELECT q.id, (SELECT count(*) FROM quota_product qp
                      JOIN order_position op ON op.product_id = qp.product_id AND NOT op.canceled
                      JOIN kassa_order o ON o.id = op.order_id AND o.status IN ('pending', 'paid')
                     WHERE qp.quota_id = q.id)
        FROM quota q;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER kassa_quota_usage_positions_delete ON order_position;
      DROP TRIGGER kassa_quota_usage_positions_update ON order_position;
      DROP TRIGGER kassa_quota_usage_positions_insert ON order_position;
      DROP TRIGGER kassa_quota_usage_order_status ON kassa_order;
      DROP TRIGGER kassa_quota_usage_recount ON quota_product;
      DROP TRIGGER kassa_quota_usage_new_quota ON quota;
      DROP FUNCTION kassa_quota_usage_positions();
      DROP FUNCTION kassa_quota_usage_order_status();
      DROP FUNCTION kassa_quota_usage_recount();
      DROP FUNCTION kassa_quota_usage_new_quota();
      DROP FUNCTION kassa_quota_usage_add(uuid[], integer[]);
      DROP TABLE quota_usage;
    `);
  }
}
