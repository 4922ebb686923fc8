import type { MigrationInterface, QueryRunner } from '@kassa/core/host';

/**
 * The control panel's and API's long work for an organizer (exports, the data shredder): one row
 * per task with its progress, and an export's file in chunks of at most a few hundred kilobytes, so
 * neither writing nor downloading a file of any size holds it in memory, and every server and
 * worker process on the database sees it (no shared file system needed).
 */
export class BulkTask1767800000001 implements MigrationInterface {
  name = 'BulkTask1767800000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bulk_task (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL REFERENCES organizer(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('export', 'shred')),
        params jsonb NOT NULL,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'finished', 'error', 'removed')),
        done integer NOT NULL DEFAULT 0 CHECK (done >= 0),
        total integer CHECK (total IS NULL OR total >= 0),
        file_name text,
        content_type text,
        byte_size bigint,
        error text,
        actor_type text NOT NULL,
        actor_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      );
      CREATE INDEX bulk_task_organizer ON bulk_task (organizer_id, created_at DESC);
      CREATE TABLE bulk_task_chunk (
        task_id uuid NOT NULL REFERENCES bulk_task(id) ON DELETE CASCADE,
        seq integer NOT NULL CHECK (seq >= 0),
        data bytea NOT NULL,
        PRIMARY KEY (task_id, seq)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE bulk_task_chunk; DROP TABLE bulk_task');
  }
}
