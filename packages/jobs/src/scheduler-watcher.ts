import type { Queue } from 'bullmq';
import type { JobsBackend } from './backend';
import type { JobsLogger } from './context';
import { ensureSchedulers, type ScheduleEntry } from './schedulers';

/**
 * Keeps a worker's job schedulers in place while it runs. A Redis restarted without persistence
 * comes back empty, schedulers included, and nothing in BullMQ re-creates them: expiry, reminders,
 * the host's maintenance tasks and the plugins' periodic jobs would stop until the worker restarted. So the
 * schedulers are checked (and the missing ones re-created) each time a queue's connection becomes
 * ready again, and every `intervalMs` besides, for what no reconnect announces (a FLUSHALL, a
 * failover to an empty replica).
 */
export class SchedulerWatcher {
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void)[] = [];
  private running: Promise<string[]> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly backend: JobsBackend,
    private readonly schedules: readonly { queue: Queue; entries: readonly ScheduleEntry[] }[],
    private readonly logger: JobsLogger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    for (const s of this.schedules) {
      if (s.entries.length > 0) this.unsubscribe.push(this.backend.onReady(s.queue, () => void this.check().catch(() => undefined)));
    }
    this.timer = setInterval(() => void this.check().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  /**
   * Re-creates missing schedulers; returns the ids re-created. A call while a check runs makes
   * that check run once more when it ends (a reconnect in the middle of a check must not be lost).
   */
  check(): Promise<string[]> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      const recreated: string[] = [];
      do {
        this.again = false;
        for (const s of this.schedules) {
          if (this.stopped) break;
          recreated.push(...(await ensureSchedulers(s.queue, s.entries)));
        }
      } while (this.again && !this.stopped);
      if (recreated.length > 0) this.logger.warn('job schedulers were missing (a Redis restarted without persistence?); re-created', { schedulers: recreated });
      return recreated;
    })().catch((err: unknown) => {
      // After stop() the queues close under a check in flight: that failure is expected.
      if (!this.stopped) this.logger.error('checking the job schedulers failed; the next check tries again', { error: err instanceof Error ? err.message : String(err) });
      throw err;
    }).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * Stops watching. A check in flight is not awaited: during a Redis outage its commands wait for
   * the reconnect, and shutting down must not; closing the queues ends it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const off of this.unsubscribe.splice(0)) off();
    this.running?.catch(() => undefined);
  }
}
