import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * kassa_order's unique index on `secret` serves no read: the order page finds the order by
 * (event_id, code), through that pair's unique index, and then compares the secret in constant time.
 * Every order placed paid for an entry in it, at a random place in an index of 32-character keys
 * (a random leaf page, and after each checkpoint its full-page image). The secret is 24 random bytes
 * (order-placement.ts): two orders drawing the same one is not a case the database has to catch.
 */
export class DropOrderSecretUnique1769280000001 implements MigrationInterface {
  name = 'DropOrderSecretUnique1769280000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE kassa_order DROP CONSTRAINT kassa_order_secret_key');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE kassa_order ADD CONSTRAINT kassa_order_secret_key UNIQUE (secret)');
  }
}
