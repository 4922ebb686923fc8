import { DelayedError, type Job } from 'bullmq';
import type { OutboxEventRef } from '@kassa/core/host';
import type { JobsContext } from '../context';
import { describeError, isPermanentJobError, PermanentJobError } from '../job-errors';
import { handlersFor, type EventHandler, type RelayedEvent } from '../outbox/event-handler';
import { EventSteps, type NextEvent } from '../outbox/event-steps';
import type { OutboxRelay } from '../outbox/outbox-relay';
import type { DeliverEventPayload, DeliverEventsPayload } from '../queues';
import { isLastAttempt } from '../retry-policy';

/** Successors one job runs after its own event before it hands the line to a job of its own. */
const MAX_INLINE_SUCCESSORS = 32;

/**
 * Runs every handler subscribed to one outbox event (`deliver-event`), or to each of several
 * orders' next events (`deliver-events`, see {@link deliverBatch}).
 *
 * In order per order: the relay hands over only the head of each order's line, and this job
 * relays the order's next event when it finishes (see {@link OutboxRelay}): the delivery record
 * and the successor's relayed mark are one statement, in the last handler's transaction when
 * there is one, and after the commit the job runs the successor itself ({@link runSuccessors}) or
 * enqueues it. A crash in between leaves the successor marked but without a job until the relay's
 * sweep enqueues it again. The database work is shared with the other event jobs running in this
 * process ({@link EventSteps}): one load, one transaction for many events. An event that ended in
 * the failed list has a `failed` record, so it does not hold its order back for ever; retried
 * from the control panel, it runs again on its own. Should a job still meet an unfinished earlier
 * event (a manual re-enqueue), it waits: the job is delayed, no attempt is used.
 *
 * Exactly-once effects: see {@link EventHandler}. A handler that already committed is skipped on
 * redelivery, so a retry after handler B failed does not repeat handler A.
 */
export function deliverEventProcessor(
  ctx: JobsContext, handlers: readonly EventHandler[], relay: Relay, steps = new EventSteps(ctx),
  /** True once the worker is closing: a job then hands its order's next event to a job of its own instead of running it. */
  stopping: () => boolean = () => false,
) {
  const one = async (job: Job<DeliverEventPayload>, token?: string): Promise<{ handlers: string[] }> => {
    const found = await steps.load(job.data.eventId);
    if (!found) throw new PermanentJobError(`outbox event #${job.data.eventId} does not exist (pruned?)`);
    if (found.blocked) {
      await job.moveToDelayed(Date.now() + ctx.config.worker.orderWaitMs, token);
      throw new DelayedError();
    }
    let outcome: { ran: string[]; next: NextEvent[] };
    try {
      outcome = await deliver(ctx, handlers, steps, found.event);
    } catch (err) {
      if (isPermanentJobError(err) || isLastAttempt(job)) {
        // Given up: record it, so the order's later events are not held back for ever.
        await relay.enqueueClaimed(await steps.run({ event: found.event, delivery: { state: 'failed', error: describeError(err) } }));
      }
      throw err;
    }
    await relay.enqueueClaimed(await runSuccessors(ctx, handlers, steps, relay, outcome.next, stopping));
    return { handlers: outcome.ran };
  };
  return (job: Job<DeliverEventPayload | DeliverEventsPayload>, token?: string): Promise<unknown> =>
    (job.name === 'deliver-events'
      ? deliverBatch(ctx, handlers, steps, relay, job as Job<DeliverEventsPayload>, stopping)
      : one(job as Job<DeliverEventPayload>, token));
}

type Relay = Pick<OutboxRelay, 'enqueueClaimed' | 'enqueueAlone'>;

/** More ids than a relay ever puts in one job: a hand-made job cannot make a worker load without bound. */
const MAX_BATCH_EVENTS = 1_000;

/**
 * A `deliver-events` job: its events (at most one per order) run at once, each as a
 * `deliver-event` job would, their successors too; the steps share this process's transactions
 * ({@link EventSteps}). What this job cannot finish goes to a `deliver-event` job of its own, so
 * that retries, backoff and the failed list stay per event and a failure holds back only its own
 * order: a failing event (after the first backoff step; a permanent failure at once, so that it
 * reaches the failed list with its handler's error), an event that must wait, one that does not
 * exist. The job itself fails only when the database or the queue is away; run again, it skips
 * the effects that committed (the ledger). A worker killed in the middle leaves it to BullMQ's
 * stalled check, which runs it again the same way.
 */
async function deliverBatch(
  ctx: JobsContext, handlers: readonly EventHandler[], steps: EventSteps, relay: Relay, job: Job<DeliverEventsPayload>,
  stopping: () => boolean,
): Promise<{ delivered: number; alone: string[] }> {
  const ids = Array.isArray(job.data.eventIds) ? job.data.eventIds.filter((id): id is string => typeof id === 'string').slice(0, MAX_BATCH_EVENTS) : [];
  const next: OutboxEventRef[] = [];
  const aloneNow: OutboxEventRef[] = [];
  const aloneLater: OutboxEventRef[] = [];
  let delivered = 0;
  await Promise.all(ids.map(async (id) => {
    const found = await steps.load(id);
    if (!found || found.blocked) {
      aloneNow.push(found?.event ?? { id, topic: 'unknown', orderId: null });
      return;
    }
    let outcome: { next: NextEvent[] };
    try {
      outcome = await deliver(ctx, handlers, steps, found.event);
    } catch (err) {
      ctx.logger.warn('outbox event failed in a job for several; left to its own job', { eventId: id, error: describeError(err) });
      (isPermanentJobError(err) ? aloneNow : aloneLater).push(found.event);
      return;
    }
    delivered += 1;
    next.push(...(await runSuccessors(ctx, handlers, steps, relay, outcome.next, stopping)));
  }));
  await relay.enqueueAlone(aloneNow);
  await relay.enqueueAlone(aloneLater, ctx.config.retry.backoffMs);
  await relay.enqueueClaimed(next);
  return { delivered, alone: [...aloneNow, ...aloneLater].map((e) => e.id) };
}

/**
 * Runs every subscribed handler of one event, each in its own transaction (shared with other jobs'
 * steps, see {@link EventSteps}); returns the handlers that ran and the order's next event, which
 * the delivery record marked relayed.
 */
async function deliver(
  ctx: JobsContext, handlers: readonly EventHandler[], steps: EventSteps, event: RelayedEvent,
): Promise<{ ran: string[]; next: NextEvent[] }> {
  const subscribed = handlersFor(handlers, event.topic);
  const ran: string[] = [];
  let next: NextEvent[] | null = null;
  for (const [i, handler] of subscribed.entries()) {
    // The delivery record rides in the last handler's transaction when nothing runs after it:
    // "done" commits together with the last effect, and no extra commit is paid.
    const last = i === subscribed.length - 1 && !handler.afterCommit && handler.apply !== undefined;
    try {
      if (handler.apply) {
        // Outside the transaction: a provider may be slow or talk to the network.
        const prepared = handler.prepare ? await handler.prepare(event, ctx) : undefined;
        const handed = await steps.run({ handler, event, prepared, ...(last ? { delivery: { state: 'done' as const, error: null } } : {}) });
        if (last) next = handed;
      }
      if (handler.afterCommit) await handler.afterCommit(event, ctx);
    } catch (err) {
      const message = `handler ${handler.name} failed on ${event.topic} #${event.id}: ${describeError(err)}`;
      if (isPermanentJobError(err)) throw new PermanentJobError(message, { cause: err });
      throw new Error(message, { cause: err });
    }
    ran.push(handler.name);
  }
  return { ran, next: next ?? (await steps.run({ event, delivery: { state: 'done', error: null } })) };
}

/**
 * Runs the order's next events in this job, one after the other, as long as each hands the line
 * on to exactly one: a busy order costs no queue round trip per event (the job-per-event cost is
 * most of an event's cost on BullMQ's PostgreSQL backend). What it does not run (a failure, an
 * event that must wait, the bound) it returns, to be enqueued as its own job, which retries it
 * with the usual policy. A crash in between leaves the next event marked relayed without a job,
 * which the relay's sweep enqueues again, as for any relayed event.
 */
async function runSuccessors(
  ctx: JobsContext, handlers: readonly EventHandler[], steps: EventSteps, relay: Relay, first: NextEvent[],
  stopping: () => boolean,
): Promise<OutboxEventRef[]> {
  let next = first;
  // A closing worker waits for its jobs: it should not wait for a whole line of events.
  for (let n = 0; n < MAX_INLINE_SUCCESSORS && next.length === 1 && !stopping(); n += 1) {
    const ref = next[0]!;
    const loaded = ref.loaded ?? (await steps.load(ref.id));
    if (!loaded || loaded.blocked) return next;
    try {
      next = (await deliver(ctx, handlers, steps, loaded.event)).next;
    } catch (err) {
      // Its own job tries again after the first backoff step, and ends in the failed list as any event would.
      ctx.logger.warn('outbox event failed after its predecessor; left to its own job', { eventId: ref.id, error: describeError(err) });
      await relay.enqueueAlone([ref], ctx.config.retry.backoffMs);
      return [];
    }
  }
  return next;
}
