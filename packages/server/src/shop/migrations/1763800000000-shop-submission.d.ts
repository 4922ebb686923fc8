import type { MigrationInterface, QueryRunner } from '@kassa/core';
/**
 * The shop's idempotency ledger: one row per buyer form submission that places an order or starts
 * a payment. The token comes from the form, so a double click (or a reload of the POST) finds the
 * row and answers with the first submission's result instead of placing a second order.
 */
export declare class ShopSubmission1763800000000 implements MigrationInterface {
    name: string;
    up(q: QueryRunner): Promise<void>;
    down(q: QueryRunner): Promise<void>;
}
