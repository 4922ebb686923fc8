import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The cart functions run their queries with generic plans. PL/pgSQL plans each query of a function
 * once per connection and then, by default, weighs a generic plan against planning anew for every
 * call's values; for these queries (whose values are ids, arrays and a timestamp, and whose plans
 * do not depend on them) the estimate kept choosing to plan anew, so planning cost more than
 * running. A function's SET also holds for what it calls (kassa_cart_held inside the reservation,
 * the quota_hold triggers of its writes).
 */
export class GenericPlansForHolds1769230000002 implements MigrationInterface {
  name = 'GenericPlansForHolds1769230000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER FUNCTION kassa_cart_reserve(jsonb, timestamptz) SET plan_cache_mode = force_generic_plan;
      ALTER FUNCTION kassa_cart_held(uuid[], timestamptz, uuid) SET plan_cache_mode = force_generic_plan;
      ALTER FUNCTION kassa_cart_held_by(uuid[], timestamptz, uuid[]) SET plan_cache_mode = force_generic_plan;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER FUNCTION kassa_cart_reserve(jsonb, timestamptz) RESET plan_cache_mode;
      ALTER FUNCTION kassa_cart_held(uuid[], timestamptz, uuid) RESET plan_cache_mode;
      ALTER FUNCTION kassa_cart_held_by(uuid[], timestamptz, uuid[]) RESET plan_cache_mode;
    `);
  }
}
