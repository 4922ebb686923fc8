import type { StripeRuntime } from '../stripe-state';
import { processInboxEvent } from './event-processor';
import type { StoredBatchHandler, StoredEvent } from './inbox-writer';

/** The job that processes the events the inbox writer handed on together, in their insert order. */
export const PROCESS_EVENTS_JOB = 'process-events';

/** The job that processes one stored event: a batch of one, a batch's failing event, jobs queued before batches. */
export const PROCESS_EVENT_JOB = 'process-event';

/** The deterministic job id of an event: a second enqueue of the same event is a no-op. */
export function eventJobId(account: string, eventId: string): string {
  return `stripe:${account}:${eventId}`;
}

/**
 * The deterministic job id of a batch of stored rows. The inbox writer hands each row on once, so
 * its first row names the batch; the last and the count make a hand-made id collide with nothing.
 */
export function batchJobId(rows: readonly Pick<StoredEvent, 'inboxId'>[]): string {
  return `stripe:batch:${rows[0]!.inboxId}:${rows.at(-1)!.inboxId}:${rows.length}`;
}

/** More ids than the inbox writer ever hands on at once: a hand-made job cannot make a worker load without bound. */
export const MAX_BATCH_EVENTS = 1_000;

/**
 * The inbox writer's handler for webhooks: the rows it hands on go to the queue as one job (a
 * single row as its own process-event job, as before batches). Its promise settles with the
 * enqueue, never rejecting; no answer waits for it. A lost enqueue is caught up by the sweep job.
 */
export function enqueueStored(rt: Pick<StripeRuntime, 'enqueue' | 'log'>): StoredBatchHandler {
  return async (rows) => {
    try {
      await (rows.length === 1
        ? rt.enqueue(PROCESS_EVENT_JOB, { inboxId: rows[0]!.inboxId }, { jobId: eventJobId(rows[0]!.account, rows[0]!.eventId) })
        : rt.enqueue(PROCESS_EVENTS_JOB, { inboxIds: rows.map((r) => r.inboxId) }, { jobId: batchJobId(rows) }));
    } catch (err) {
      rt.log.warn('stripe: enqueue failed, left for the sweep', { inboxIds: rows.map((r) => r.inboxId), error: err instanceof Error ? err.message : String(err) });
    }
  };
}

/**
 * A failing event of a batch waits this long before its own job first tries it again, as the
 * jobs runtime's first backoff step (by default) would have it wait.
 */
export const FAILED_EVENT_DELAY_MS = 2_000;

/** Batch lanes run side by side: a batch of events for many payments should not wait on Stripe one call at a time. */
const LANES = 4;

/** What processing stored events needs (the sweep); a batch job also hands failing events on. */
type LaneRuntime = Pick<StripeRuntime, 'payments' | 'db' | 'settings' | 'state' | 'baseUrl' | 'log'>;
type BatchRuntime = LaneRuntime & Pick<StripeRuntime, 'enqueue'>;

/**
 * Processes the events of a batch: the events of one object in insert order, those of different
 * objects side by side (a few lanes). Each is idempotent by its inbox row, so a batch run again
 * (BullMQ retrying it after a worker died midway) skips the rows already processed. An event that
 * fails does not fail the batch: it goes on in its own process-event job, which retries it with
 * the job's attempts, as the outbox relay hands a failing event a job of its own. The batch fails
 * only when that hand-over fails (the queue away): run again, it skips what was processed.
 * Returns the outcome of each event (null: handed over), in the order of `inboxIds`.
 */
export async function processEventBatch(rt: BatchRuntime, inboxIds: readonly string[]): Promise<(string | null)[]> {
  const handOver: StoredEvent[] = [];
  const outcomes = await processInLanes(rt, inboxIds, (row, err) => {
    rt.log.warn('stripe: event failed in a batch; left to its own job', { inboxId: row.id, error: err instanceof Error ? err.message : String(err) });
    handOver.push({ inboxId: row.id, account: row.account, eventId: row.event_id });
  });
  for (const e of handOver) {
    await rt.enqueue(PROCESS_EVENT_JOB, { inboxId: e.inboxId }, { jobId: eventJobId(e.account, e.eventId), delayMs: FAILED_EVENT_DELAY_MS });
  }
  return inboxIds.map((id) => outcomes.get(id) ?? null);
}

interface LaneRow { id: string; account: string; event_id: string; lane: string }

/**
 * Processes stored events in lanes: one object's events (by account and payment intent or object)
 * in the order given, up to LANES objects side by side. An event that throws is passed to
 * `failed` and the others go on. Returns each found event's outcome (null: it failed).
 */
export async function processInLanes(
  rt: LaneRuntime, inboxIds: readonly string[], failed: (row: LaneRow, err: unknown) => void,
): Promise<Map<string, string | null>> {
  const ids = inboxIds.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const found = ids.length === 0 ? [] : await rt.db.query<LaneRow>(
    `SELECT id, account, event_id, account || ':' || coalesce(intent_id, object_id) AS lane FROM stripe_webhook_inbox WHERE id = ANY($1::uuid[])`, [ids],
  );
  const rows = new Map(found.map((r) => [r.id, r]));
  const outcomes = new Map<string, string | null>();
  const lanes = new Map<string, string[]>();
  for (const id of inboxIds) {
    const row = rows.get(id);
    if (!row) {
      // Nothing stored under the id: its own job could do no better.
      rt.log.warn('stripe: batch names an inbox event that does not exist', { inboxId: id });
      outcomes.set(id, 'not found');
      continue;
    }
    const lane = lanes.get(row.lane);
    if (lane) lane.push(id);
    else lanes.set(row.lane, [id]);
  }
  const waiting = [...lanes.values()];
  const runLanes = async () => {
    for (let lane = waiting.shift(); lane; lane = waiting.shift()) {
      for (const id of lane) {
        try {
          outcomes.set(id, await processInboxEvent(rt, id));
        } catch (err) {
          failed(rows.get(id)!, err);
          outcomes.set(id, null);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LANES, lanes.size) }, runLanes));
  return outcomes;
}
