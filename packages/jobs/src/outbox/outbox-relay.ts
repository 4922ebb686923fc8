import type { DataSource } from '@kassa/core';
import type { Queue } from 'bullmq';
import { jobIds, type DeliverEventPayload } from '../queues';
import type { JobsLogger } from '../context';

/**
 * Moves committed outbox events into the events queue, oldest first.
 *
 * Order of steps, and why: read unrelayed rows, enqueue them with deterministic job ids, then mark
 * them relayed. A crash between the last two steps re-enqueues the same ids, which BullMQ folds
 * into the existing jobs, and the effects ledger makes a rare duplicate job harmless. Nothing is
 * enqueued inside a database transaction: with the PostgreSQL backend the enqueue is itself a
 * write on another connection, and on PGlite (one connection at a time) waiting for it while
 * holding a transaction would deadlock. For the same reason several relays may run at once
 * (one per worker process) without a lock: they only ever enqueue the same ids.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly queue: Queue,
    private readonly logger: JobsLogger,
    private readonly pollMs: number,
    private readonly batchSize = 500,
  ) {}

  /** Relays one batch; returns how many events it enqueued. */
  async relayOnce(): Promise<number> {
    const rows: { id: string; topic: string; order_id: string | null }[] = await this.dataSource.query(
      `SELECT id::text AS id, topic, order_id FROM outbox_event WHERE relayed_at IS NULL ORDER BY id LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 0;
    await this.queue.addBulk(rows.map((r) => ({
      name: 'deliver-event',
      data: { eventId: r.id, topic: r.topic, orderId: r.order_id } satisfies DeliverEventPayload,
      opts: { jobId: jobIds.deliverEvent(r.id) },
    })));
    await this.dataSource.query(
      `UPDATE outbox_event SET relayed_at = now() WHERE id = ANY($1::bigint[]) AND relayed_at IS NULL`,
      [rows.map((r) => r.id)],
    );
    return rows.length;
  }

  /** Relays until nothing is left (tests, benchmarks, the CLI). */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.relayOnce(); n > 0; n = await this.relayOnce()) total += n;
    return total;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops polling; resolves once the batch in progress is enqueued and marked. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  /** Looks for events now instead of at the next poll (e.g. after a request emitted some). */
  poke(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let relayed = 0;
      try {
        relayed = await this.relayOnce();
        failures = 0;
      } catch (err) {
        // The database or the queue is away: back off (up to 30 s) and try again; the events
        // stay unrelayed in the table meanwhile, so nothing is lost.
        failures += 1;
        this.logger.error('outbox relay failed', { error: err instanceof Error ? err.message : String(err), failures });
      }
      if (relayed < this.batchSize || failures > 0) {
        await this.sleep(failures > 0 ? Math.min(this.pollMs * 2 ** failures, 30_000) : this.pollMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
