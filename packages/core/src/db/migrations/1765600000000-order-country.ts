import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The buyer's country on the order (ISO 3166-1 alpha-2, upper case). Kassa has no invoice
 * address; the shop asks for the country only when a payment method of the event is restricted
 * to some countries, and a switch of method later on the order page checks the same country.
 */
export class OrderCountry1765600000000 implements MigrationInterface {
  name = 'OrderCountry1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE kassa_order ADD COLUMN country char(2) NULL CHECK (country IS NULL OR country ~ '^[A-Z]{2}$')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE kassa_order DROP COLUMN country');
  }
}
