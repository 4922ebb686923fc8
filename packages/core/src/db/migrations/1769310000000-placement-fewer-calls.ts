import type { MigrationInterface, QueryRunner } from 'typeorm';
import { positionsTriggerSql } from '../../persistence/quota-trigger';

/**
 * Fewer function calls and statements inside each placement statement (placement-batch.ts), whose
 * fixed cost per call is most of PostgreSQL's work for a lone order and a large share in a batch:
 * every PL/pgSQL call pays for its SET, an SPI connection, the plan's revalidation and an executor
 * start-up per statement, and a function in FROM hands its rows over through a tuplestore.
 *
 * - kassa_cart_holds reads both hold sums the placement needs, all carts' holds per quota (as
 *   kassa_cart_held with no cart left out) and the placing carts' own holds per quota (as
 *   kassa_cart_held_by), in one call and one statement: rows with a null cart_id are the former.
 *   Like those two it is volatile PL/pgSQL, so its statement takes its snapshot when it starts,
 *   after the placement's quota lock, and sees every hold written under that lock; both sums now
 *   come from that one snapshot. kassa_cart_held and kassa_cart_held_by stay for their other callers
 *   (quota checks, order changes) and for code before this migration.
 * - The positions' counter trigger applies its deltas itself (the same UPDATE per quota, in quota id
 *   order) instead of through a call of kassa_quota_usage_add, which cost a function call and the
 *   statement making it.
 *
 * Same rows written, same locks in the same order, same sums.
 */
export class PlacementFewerCalls1769310000000 implements MigrationInterface {
  name = 'PlacementFewerCalls1769310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION kassa_cart_holds(quota_ids uuid[], at timestamptz, carts uuid[])
        RETURNS TABLE (cart_id uuid, quota_id uuid, n integer) LANGUAGE plpgsql VOLATILE
        SET plan_cache_mode = force_generic_plan AS $$
      BEGIN
        RETURN QUERY
          SELECT NULL::uuid, h.quota_id, sum(h.n)::integer
            FROM quota_hold h
           WHERE h.quota_id = ANY(quota_ids) AND h.expires > at
           GROUP BY h.quota_id
          UNION ALL
          SELECT r.cart_id, qp.quota_id, sum(r.quantity)::integer
            FROM cart_reservation r JOIN quota_product qp ON qp.product_id = r.product_id
           WHERE r.cart_id = ANY(carts) AND r.expires > at AND qp.quota_id = ANY(quota_ids)
           GROUP BY r.cart_id, qp.quota_id;
      END $$;
    `);
    await q.query(positionsTriggerSql('loop'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(positionsTriggerSql('call'));
    await q.query('DROP FUNCTION kassa_cart_holds(uuid[], timestamptz, uuid[])');
  }
}
