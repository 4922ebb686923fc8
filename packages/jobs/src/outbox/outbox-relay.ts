import { OutboxRelayStore, type DataSource, type OutboxEventRef } from '@kassa/core/host';
import type { Queue } from 'bullmq';
import { jobIds, type DeliverEventPayload, type DeliverEventsPayload } from '../queues';
import type { JobsLogger } from '../context';

type BulkJob = Parameters<Queue['addBulk']>[0][number];

/** How long after its creation an event may still be joined by a lower id committing late. */
const SETTLE_MS = 2_000;
/**
 * Events per `deliver-events` job: enough that the queue's cost per job (most of an event's cost
 * on BullMQ's PostgreSQL backend) is shared widely, few enough that a poll's heads still spread
 * over several jobs, i.e. over the workers of several processes.
 */
export const EVENTS_PER_JOB = 32;

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
 *
 * In order per order: only the head of each order's line is relayed, i.e. an event whose earlier
 * events of the same order all have a delivery record. So at most one event per order is in the
 * queue at a time, whatever order a backend claims jobs in (PostgreSQL's SKIP LOCKED claim is not
 * FIFO), and the event job relays its successor itself when it finishes ({@link enqueueClaimed}),
 * so a busy order does not wait for the next poll. Heads of different orders share a job
 * (`deliver-events`, up to {@link EVENTS_PER_JOB}): a queue round trip per event would cost more
 * than the event's own work.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Every event up to this id is delivered or not yet relayed: the sweep starts after it. */
  private sweptUpTo = '0';
  private lastSweep = 0;
  /**
   * Every unrelayed event up to this id was relayed or found waiting behind an unfinished event of
   * its order (the delivery of that one hands the line on, never the poll): the poll starts after it.
   */
  private scannedUpTo = '0';
  private lastFullScan = 0;
  private readonly store: OutboxRelayStore;

  constructor(
    dataSource: DataSource,
    private readonly queue: Queue,
    private readonly logger: JobsLogger,
    private readonly pollMs: number,
    private readonly strandedAfterMs: number,
    private readonly batchSize = 500,
  ) {
    this.store = new OutboxRelayStore(dataSource);
  }

  /** Relays one batch; returns how many events it enqueued. */
  async relayOnce(now = Date.now()): Promise<number> {
    // Now and then from the start: a transaction that commits late can add an event below the
    // mark (ids come from a sequence), which would otherwise wait for ever.
    if (now - this.lastFullScan >= Math.max(this.pollMs * 10, 1_000)) {
      this.scannedUpTo = '0';
      this.lastFullScan = now;
    }
    // The window bounds the anti-join's work per poll; heads further back are reached as the
    // events before them get relayed. Events of the last seconds are scanned again on every poll
    // (a lower id may still commit among them); the backlog behind busy orders is scanned once.
    const { heads, scannedUpTo } = await this.store.headsAfter(this.scannedUpTo, this.batchSize, this.batchSize * 40, new Date(now - SETTLE_MS));
    const relayed = await this.enqueue(heads);
    // Only once they are enqueued and marked: a failed poll scans the same events again.
    if (scannedUpTo !== null) this.scannedUpTo = scannedUpTo;
    return relayed;
  }

  /**
   * Enqueues events the caller has already marked relayed in its own transaction (the event job
   * relays its order's next event that way, see deliver-event), together as {@link jobsFor} does.
   * Racing the poll is harmless (same job id); a crash before this call is repaired by {@link sweepStranded}.
   */
  async enqueueClaimed(rows: readonly OutboxEventRef[]): Promise<void> {
    if (rows.length > 0) await this.queue.addBulk(this.jobsFor(rows));
  }

  /**
   * Gives each event a `deliver-event` job of its own (`event-<id>`), after `delayMs` if given: an
   * event that failed or must wait inside a job for several, to be retried with the usual policy
   * and, should it keep failing, to stand in the failed list by itself.
   */
  async enqueueAlone(rows: readonly OutboxEventRef[], delayMs?: number): Promise<void> {
    if (rows.length > 0) await this.queue.addBulk(rows.map((r) => this.jobFor(r, delayMs)));
  }

  /**
   * Enqueues again the relayed events that have had no delivery record for `strandedAfterMs`:
   * their job may be gone (Redis restarted without persistence). While a job for the event alone
   * exists, its id makes this a no-op; events relayed after the oldest job still waiting are left
   * alone (their job for several may be waiting too); should one run twice, the effects ledger
   * keeps the effects single.
   * Starts after the highest id known to be settled, so each sweep looks at recent events only.
   */
  async sweepStranded(now = Date.now()): Promise<number> {
    // A job for several events has an id of its own: enqueuing its events again would not fold
    // into it but run them twice (once for nothing). While jobs wait in a queue that is behind,
    // an event relayed after the oldest waiting job was added may still be waiting in a job too.
    const [oldest] = await this.queue.getWaiting(0, 0);
    const staleBefore = Math.min(now - this.strandedAfterMs, oldest?.timestamp ?? Infinity);
    const rows = await this.store.relayedWithoutDelivery(this.sweptUpTo, new Date(staleBefore), this.batchSize);
    // Everything below the first undelivered or unrelayed event is settled. Ids come from a
    // sequence, so a transaction that commits late can add a lower id than ones already seen:
    // the upper bound only counts events older than the stranded delay, and the mark may move
    // back when such an event shows up unrelayed.
    const bounds = await this.store.sweepBounds(new Date(now - this.strandedAfterMs));
    const open = [rows[0]?.id, bounds.unrelayed].filter((v): v is string => v != null).map(BigInt);
    if (open.length > 0) this.sweptUpTo = (open.reduce((a, b) => (a < b ? a : b)) - 1n).toString();
    else if (bounds.max) this.sweptUpTo = bounds.max;
    const stale = rows.filter((r) => r.stale);
    if (stale.length === 0) return 0;
    this.logger.warn('re-enqueuing relayed events without a delivery', { count: stale.length, first: stale[0]!.id });
    await this.queue.addBulk(stale.map((r) => this.jobFor(r)));
    return stale.length;
  }

  private jobFor(r: OutboxEventRef, delayMs?: number): BulkJob {
    return {
      name: 'deliver-event',
      data: { eventId: r.id, topic: r.topic, orderId: r.orderId } satisfies DeliverEventPayload,
      opts: { jobId: jobIds.deliverEvent(r.id), ...(delayMs ? { delay: delayMs } : {}) },
    };
  }

  /**
   * One `deliver-events` job per {@link EVENTS_PER_JOB} events (in id order, split evenly), a
   * `deliver-event` job for an event alone. The rows must be of different orders (heads, or next
   * events of different orders): an order's events in one job would wait on each other.
   */
  private jobsFor(unsorted: readonly OutboxEventRef[]): BulkJob[] {
    if (unsorted.length === 1) return [this.jobFor(unsorted[0]!)];
    // In id order, so the same events make the same job id whoever relays them.
    const rows = [...unsorted].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const jobs = Math.ceil(rows.length / EVENTS_PER_JOB);
    const out: BulkJob[] = [];
    for (let k = 0; k < jobs; k += 1) {
      const part = rows.slice(Math.floor((k * rows.length) / jobs), Math.floor(((k + 1) * rows.length) / jobs));
      const eventIds = part.map((r) => r.id);
      out.push(eventIds.length === 1
        ? this.jobFor(part[0]!)
        : { name: 'deliver-events', data: { eventIds } satisfies DeliverEventsPayload, opts: { jobId: jobIds.deliverEvents(eventIds) } });
    }
    return out;
  }

  private async enqueue(rows: OutboxEventRef[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.queue.addBulk(this.jobsFor(rows));
    await this.store.markRelayed(rows.map((r) => r.id));
    return rows.length;
  }

  /**
   * Polls until a poll finds nothing (tests, benchmarks). Only heads of lines are relayed; the
   * later events of an order follow as the events before them finish.
   */
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
        if (Date.now() - this.lastSweep >= Math.min(this.strandedAfterMs, 60_000)) {
          this.lastSweep = Date.now();
          await this.sweepStranded();
        }
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
