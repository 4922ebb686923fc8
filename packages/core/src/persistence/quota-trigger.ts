import { orderMachine } from '../order/order.machine';

/*
 * The quota usage counter's trigger functions (first written by migration 1764000000000), with
 * the states whose positions count generated from the order machine's set `quotaHolding`.
 * Migration 1766000000000 installs them; test/db/quota-trigger-set.db.test.ts fails when the
 * functions in the database no longer match the set (then a new migration calls this again).
 */

/** The statements that (re)create the counter's functions and the status trigger from the set. */
export function quotaTriggerSql(): string {
  const holds = (column: string) => orderMachine.sqlIn('quotaHolding', column);
  return `
      CREATE OR REPLACE FUNCTION kassa_quota_usage_recount() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        qid uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.quota_id ELSE NEW.quota_id END;
      BEGIN
        UPDATE quota_usage u SET used = (
          SELECT count(*) FROM quota_product qp
            JOIN order_position op ON op.product_id = qp.product_id AND NOT op.canceled
            JOIN kassa_order o ON o.id = op.order_id AND ${holds('o.status')}
           WHERE qp.quota_id = qid)
         WHERE u.quota_id = qid;
        RETURN NULL;
      END $$;

      -- An order's status moving in or out of the quota-holding states adds or removes its live positions.
      CREATE OR REPLACE FUNCTION kassa_quota_usage_order_status() RETURNS trigger LANGUAGE plpgsql
      SET enable_seqscan = off AS $$
      DECLARE
        direction integer := CASE WHEN ${holds('NEW.status')} THEN 1 ELSE -1 END;
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
      DROP TRIGGER kassa_quota_usage_order_status ON kassa_order;
      CREATE TRIGGER kassa_quota_usage_order_status AFTER UPDATE OF status ON kassa_order
        FOR EACH ROW WHEN ((${holds('OLD.status')}) IS DISTINCT FROM (${holds('NEW.status')}))
        EXECUTE FUNCTION kassa_quota_usage_order_status();

      CREATE OR REPLACE FUNCTION kassa_quota_usage_positions() RETURNS trigger LANGUAGE plpgsql
      SET enable_seqscan = off AS $$
      DECLARE
        ids uuid[];
        deltas integer[];
      BEGIN
        IF TG_OP = 'INSERT' THEN
          SELECT array_agg(d.quota_id ORDER BY d.quota_id), array_agg(d.n ORDER BY d.quota_id) INTO ids, deltas
            FROM (SELECT qp.quota_id, count(*)::integer AS n
                    FROM new_positions p
                    JOIN kassa_order o ON o.id = p.order_id AND ${holds('o.status')}
                    JOIN quota_product qp ON qp.product_id = p.product_id
                   WHERE NOT p.canceled
                   GROUP BY qp.quota_id) d;
        ELSIF TG_OP = 'DELETE' THEN
          SELECT array_agg(d.quota_id ORDER BY d.quota_id), array_agg(-d.n ORDER BY d.quota_id) INTO ids, deltas
            FROM (SELECT qp.quota_id, count(*)::integer AS n
                    FROM old_positions p
                    JOIN kassa_order o ON o.id = p.order_id AND ${holds('o.status')}
                    JOIN quota_product qp ON qp.product_id = p.product_id
                   WHERE NOT p.canceled
                   GROUP BY qp.quota_id) d;
        ELSE
          SELECT array_agg(d.quota_id ORDER BY d.quota_id), array_agg(d.n ORDER BY d.quota_id) INTO ids, deltas
            FROM (SELECT qp.quota_id, sum(c.sign)::integer AS n
                    FROM (SELECT order_id, product_id, 1 AS sign FROM new_positions WHERE NOT canceled
                          UNION ALL
                          SELECT order_id, product_id, -1 FROM old_positions WHERE NOT canceled) c
                    JOIN kassa_order o ON o.id = c.order_id AND ${holds('o.status')}
                    JOIN quota_product qp ON qp.product_id = c.product_id
                   GROUP BY qp.quota_id
                  HAVING sum(c.sign) <> 0) d;
        END IF;
        PERFORM kassa_quota_usage_add(ids, deltas);
        RETURN NULL;
      END $$;
    `;
}
