import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The quota counter's trigger functions (migration 1764000000000) look rows up by key: a new
 * position's order by its id, an order's positions by order id. PL/pgSQL plans their queries once
 * per connection and keeps the plan. When that first plan is made while the table is still small
 * (a new database, a fresh schema) and not yet analysed, PostgreSQL picks a sequential scan, and
 * every later order then pays for reading the whole table under the quota lock: measured at
 * 0.9 ms per order after 2,000 orders, growing with each one. Disabling sequential scans inside
 * these two functions makes their plans use the primary key and the order_id index at any size.
 */
export class QuotaTriggerPlans1764100000001 implements MigrationInterface {
  name = 'QuotaTriggerPlans1764100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER FUNCTION kassa_quota_usage_positions() SET enable_seqscan = off;
      ALTER FUNCTION kassa_quota_usage_order_status() SET enable_seqscan = off;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER FUNCTION kassa_quota_usage_positions() RESET enable_seqscan;
      ALTER FUNCTION kassa_quota_usage_order_status() RESET enable_seqscan;
    `);
  }
}
