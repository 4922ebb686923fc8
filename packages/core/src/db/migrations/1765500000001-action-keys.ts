import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One-time keys of control-panel forms (core/src/action-key): issued when a page with
 * money-moving forms is rendered, claimed by the first submit, so a double or replayed submit
 * finds its key used and moves nothing. Bound to the organizer (and the order, when the page is an
 * order's); rows older than the keys' lifetime are deleted as new ones are issued.
 */
export class ActionKeys1765500000001 implements MigrationInterface {
  name = 'ActionKeys1765500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE action_key (
        key uuid PRIMARY KEY,
        organizer_id uuid NOT NULL REFERENCES organizer (id) ON DELETE CASCADE,
        order_id uuid NULL REFERENCES kassa_order (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        used_at timestamptz NULL
      );
      CREATE INDEX action_key_created_at ON action_key (created_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE action_key');
  }
}
