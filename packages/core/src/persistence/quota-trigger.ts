import { orderMachine } from '../order/order.machine';

/*
 * The quota usage counter's trigger functions (first written by migration 1764000000000), with
 * the states whose positions count generated from the order machine's set `quotaHolding`.
 * Migration 1766000000000 installs them; test/db/quota-trigger-set.db.test.ts fails when the
 * functions in the database no longer match the set (then a new migration calls this again).
 */

/** `column` IN (the states of the set quotaHolding). */
const holds = (column: string) => orderMachine.sqlIn('quotaHolding', column);

/**
 * The statements that (re)create the counter's functions and the status trigger from the set.
 * `positions`: the positions' function as migration 1766000000000 made it ('call', the default, so
 * that migration stays as it ran) or as it is since migration 1769310000000 ('loop': pass this when
 * a new migration recreates the functions).
 */
export function quotaTriggerSql(positions: 'call' | 'loop' = 'call'): string {
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

${positionsTriggerSql(positions)}    `;
}

/**
 * The positions' statement trigger function. 'call' is migration 1766000000000's (the deltas applied
 * through kassa_quota_usage_add); 'loop' (migration 1769310000000) applies them in the function
 * itself, the same UPDATE per quota in quota id order, without a second function call and the
 * statement that makes it. Every order placed runs it once per placement statement.
 */
export function positionsTriggerSql(apply: 'call' | 'loop'): string {
  // ids come sorted: rows are locked in quota id order, like every other quota writer.
  const loop = `FOR i IN 1 .. coalesce(cardinality(ids), 0) LOOP
          UPDATE quota_usage SET used = used + deltas[i] WHERE quota_id = ids[i];
        END LOOP;`;
  return `
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
        ${apply === 'call' ? 'PERFORM kassa_quota_usage_add(ids, deltas);' : loop}
        RETURN NULL;
      END $$;
  `;
}
