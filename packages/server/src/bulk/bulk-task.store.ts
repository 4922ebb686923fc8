import { Readable } from 'node:stream';
import type { Actor, DataSource } from '@kassa/core/host';

export type BulkTaskKind = 'export' | 'shred';
/** queued → running → finished | error (a retried job goes back to running); an export's file may then be removed. */
export type BulkTaskStatus = 'queued' | 'running' | 'finished' | 'error' | 'removed';

export interface BulkTask {
  id: string;
  organizerId: string;
  kind: BulkTaskKind;
  params: Record<string, unknown>;
  status: BulkTaskStatus;
  done: number;
  total: number | null;
  fileName: string | null;
  contentType: string | null;
  byteSize: number | null;
  error: string | null;
  actorType: string;
  actorId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const columns = `id, organizer_id AS "organizerId", kind, params, status, done, total, file_name AS "fileName", content_type AS "contentType",
  byte_size::text AS "byteSize", error, actor_type AS "actorType", actor_id AS "actorId", created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

function toTask(row: Record<string, unknown>): BulkTask {
  return { ...(row as unknown as BulkTask), byteSize: row.byteSize === null ? null : Number(row.byteSize) };
}

/**
 * The server's bulk_task and bulk_task_chunk tables. Every read a route makes is scoped by
 * organizer (another organizer's task is null, like a missing one); the jobs read by id.
 */
export class BulkTaskStore {
  constructor(private readonly ds: DataSource) {}

  /**
   * Stores a new task; with a form key (the control panel's one-time form key), a second create
   * with the same key finds the first task instead (`created: false`), also when both race.
   */
  async create(
    organizerId: string, kind: BulkTaskKind, params: Record<string, unknown>, actor: Actor, now: Date, formKey?: string,
  ): Promise<{ task: BulkTask; created: boolean }> {
    const rows: Record<string, unknown>[] = await this.ds.query(
      `INSERT INTO bulk_task (organizer_id, kind, params, actor_type, actor_id, created_at, form_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (organizer_id, form_key) WHERE form_key IS NOT NULL DO NOTHING RETURNING ${columns}`,
      [organizerId, kind, JSON.stringify(params), actor.type, 'id' in actor ? actor.id ?? null : null, now, formKey ?? null],
    );
    if (rows[0]) return { task: toTask(rows[0]), created: true };
    const existing: Record<string, unknown>[] = await this.ds.query(
      `SELECT ${columns} FROM bulk_task WHERE organizer_id = $1 AND form_key = $2`, [organizerId, formKey]);
    return { task: toTask(existing[0]!), created: false };
  }

  /** One of the organizer's tasks, or null. */
  async get(organizerId: string, id: string, kind?: BulkTaskKind): Promise<BulkTask | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
    const rows: Record<string, unknown>[] = await this.ds.query(
      `SELECT ${columns} FROM bulk_task WHERE id = $1 AND organizer_id = $2 AND ($3::text IS NULL OR kind = $3)`, [id, organizerId, kind ?? null]);
    return rows[0] ? toTask(rows[0]) : null;
  }

  /** The organizer's newest tasks of a kind. */
  async list(organizerId: string, kind: BulkTaskKind, limit = 20): Promise<BulkTask[]> {
    const rows: Record<string, unknown>[] = await this.ds.query(
      `SELECT ${columns} FROM bulk_task WHERE organizer_id = $1 AND kind = $2 ORDER BY created_at DESC, id LIMIT $3`, [organizerId, kind, limit]);
    return rows.map(toTask);
  }

  /** For the job: the task by id, whoever's it is. */
  async byId(id: string): Promise<BulkTask | null> {
    const rows: Record<string, unknown>[] = await this.ds.query(`SELECT ${columns} FROM bulk_task WHERE id = $1`, [id]);
    return rows[0] ? toTask(rows[0]) : null;
  }

  /**
   * Marks the task running (again, for a retry: an export's partial file is dropped and it starts
   * over); null when it already finished, so a duplicate job does nothing.
   */
  async start(id: string, now: Date, opts: { dropFile: boolean }): Promise<BulkTask | null> {
    return this.ds.transaction(async (tx) => {
      // TypeORM answers an UPDATE … RETURNING with [rows, count].
      const [rows]: [Record<string, unknown>[], number] = await tx.query(
        `UPDATE bulk_task SET status = 'running', started_at = $2, error = NULL, done = CASE WHEN $3 THEN 0 ELSE done END
          WHERE id = $1 AND status IN ('queued', 'running', 'error') RETURNING ${columns}`, [id, now, opts.dropFile]);
      if (rows[0] && opts.dropFile) await tx.query('DELETE FROM bulk_task_chunk WHERE task_id = $1', [id]);
      return rows[0] ? toTask(rows[0]) : null;
    });
  }

  async progress(id: string, done: number, total?: number): Promise<void> {
    await this.ds.query('UPDATE bulk_task SET done = $2, total = coalesce($3, total) WHERE id = $1', [id, done, total ?? null]);
  }

  async finish(id: string, now: Date, file?: { fileName: string; contentType: string; byteSize: number }): Promise<void> {
    await this.ds.query(
      `UPDATE bulk_task SET status = 'finished', finished_at = $2, file_name = $3, content_type = $4, byte_size = $5 WHERE id = $1`,
      [id, now, file?.fileName ?? null, file?.contentType ?? null, file?.byteSize ?? null]);
  }

  async fail(id: string, now: Date, error: string): Promise<void> {
    await this.ds.query(`UPDATE bulk_task SET status = 'error', finished_at = $2, error = $3 WHERE id = $1`, [id, now, error.slice(0, 1000)]);
  }

  async writeChunk(id: string, seq: number, data: Buffer): Promise<void> {
    await this.ds.query('INSERT INTO bulk_task_chunk (task_id, seq, data) VALUES ($1, $2, $3)', [id, seq, data]);
  }

  /**
   * Removes the files of finished exports: the organizer's ones made before `before` (the shredder:
   * they may hold data it removed), or everyone's made at or before `before` (the weekly purge). Returns
   * how many files were removed.
   */
  async removeFiles(before: Date, organizerId: string | null, reason: string): Promise<number> {
    return this.ds.transaction(async (tx) => {
      const [rows]: [{ id: string }[], number] = await tx.query(
        `UPDATE bulk_task SET status = 'removed', error = $3
          WHERE kind = 'export' AND status = 'finished' AND created_at <= $1 AND ($2::uuid IS NULL OR organizer_id = $2) RETURNING id`,
        [before, organizerId, reason]);
      if (rows.length > 0) await tx.query('DELETE FROM bulk_task_chunk WHERE task_id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  /** The task's file, read one chunk at a time as the client takes it. */
  fileStream(id: string): Readable {
    const ds = this.ds;
    return Readable.from((async function* chunks() {
      for (let seq = 0; ; seq++) {
        const rows: { data: Buffer }[] = await ds.query('SELECT data FROM bulk_task_chunk WHERE task_id = $1 AND seq = $2', [id, seq]);
        if (!rows[0]) return;
        yield rows[0].data;
      }
    })(), { objectMode: false });
  }
}
