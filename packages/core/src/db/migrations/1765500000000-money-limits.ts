import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every money column holds at most Number.MAX_SAFE_INTEGER (2^53 − 1): beyond it Node reads the
 * bigint back rounded, and the minorUnits transformer refuses the row, so one such row broke every
 * page that lists it. placeOrder refuses such totals first (ORDER_TOTAL_TOO_LARGE); these checks
 * make sure no other writer can commit one either. NOT VALID: rows written before are not
 * re-checked (a migration must not fail on old data), every new or updated row is.
 */
const columns: [table: string, column: string][] = [
  ['product', 'price'], ['kassa_order', 'total'], ['order_position', 'price'], ['order_fee', 'value'],
  ['order_payment', 'amount'], ['order_refund', 'amount'],
];

export class MoneyLimits1765500000000 implements MigrationInterface {
  name = 'MoneyLimits1765500000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, column] of columns) {
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_${column}_exact CHECK (${column} <= 9007199254740991) NOT VALID`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [table, column] of columns) await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_${column}_exact`);
  }
}
