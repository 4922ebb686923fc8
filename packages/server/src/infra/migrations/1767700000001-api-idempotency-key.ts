import type { MigrationInterface, QueryRunner } from '@kassa/core/host';

/**
 * The REST API's X-Idempotency-Key (api/idempotency.ts): per token and key, what the request was
 * (a fingerprint) and, once answered, the answer to replay. Rows older than a day are deleted as
 * new keys arrive.
 */
export class ApiIdempotencyKey1767700000001 implements MigrationInterface {
  name = 'ApiIdempotencyKey1767700000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_idempotency_key (
        token_id uuid NOT NULL,
        key text NOT NULL,
        fingerprint text NOT NULL,
        status integer NULL,
        body text NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (token_id, key)
      )`);
    await q.query('CREATE INDEX api_idempotency_key_created ON api_idempotency_key (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE api_idempotency_key');
  }
}
