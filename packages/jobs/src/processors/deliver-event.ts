import { DelayedError, type Job } from 'bullmq';
import {
  claimOutboxEffect, loadOutboxEventForDelivery, recordOutboxDelivery, type EntityManager, type OutboxDeliveryState, type OutboxEventRef,
} from '@kassa/core/host';
import type { JobsContext } from '../context';
import { describeError, isPermanentJobError, PermanentJobError } from '../job-errors';
import { handlersFor, type EventHandler, type RelayedEvent } from '../outbox/event-handler';
import type { OutboxRelay } from '../outbox/outbox-relay';
import type { DeliverEventPayload } from '../queues';
import { isLastAttempt } from '../retry-policy';

/**
 * Runs every handler subscribed to one outbox event.
 *
 * In order per order: the relay hands over only the head of each order's line, and this job
 * relays the order's next event when it finishes (see {@link OutboxRelay}): the delivery record
 * and the successor's relayed mark are one statement, in the last handler's transaction when
 * there is one, and the successor is enqueued after the commit. A crash in between leaves the
 * successor marked but without a job until the relay's sweep enqueues it again. An event that ended in
 * the failed list has a `failed` record, so it does not hold its order back for ever; retried
 * from the control panel, it runs again on its own. Should a job still meet an unfinished earlier
 * event (a manual re-enqueue), it waits: the job is delayed, no attempt is used.
 *
 * Exactly-once effects: see {@link EventHandler}. A handler that already committed is skipped on
 * redelivery, so a retry after handler B failed does not repeat handler A.
 */
export function deliverEventProcessor(ctx: JobsContext, handlers: readonly EventHandler[], relay: Pick<OutboxRelay, 'enqueueClaimed'>) {
  return async (job: Job<DeliverEventPayload>, token?: string): Promise<{ handlers: string[] }> => {
    const { event, blocked } = await loadEvent(ctx, job.data.eventId);
    if (blocked) {
      await job.moveToDelayed(Date.now() + ctx.config.worker.orderWaitMs, token);
      throw new DelayedError();
    }
    const subscribed = handlersFor(handlers, event.topic);
    const ran: string[] = [];
    let next: OutboxEventRef[] | null = null;
    try {
      for (const [i, handler] of subscribed.entries()) {
        // The delivery record rides in the last handler's transaction when nothing runs after
        // it: "done" commits together with the last effect, and no extra commit is paid.
        const last = i === subscribed.length - 1 && !handler.afterCommit && handler.apply !== undefined;
        await runHandler(ctx, handler, event, last ? async (tx) => void (next = await finish(tx, ctx, event, 'done', null)) : null);
        ran.push(handler.name);
      }
    } catch (err) {
      if (isPermanentJobError(err) || isLastAttempt(job)) {
        // Given up: record it, so the order's later events are not held back for ever.
        await relay.enqueueClaimed(await finish(ctx.dataSource, ctx, event, 'failed', describeError(err)));
      }
      throw err;
    }
    await relay.enqueueClaimed(next ?? (await finish(ctx.dataSource, ctx, event, 'done', null)));
    return { handlers: ran };
  };
}

async function runHandler(
  ctx: JobsContext, handler: EventHandler, event: RelayedEvent, alsoInTransaction: ((tx: EntityManager) => Promise<void>) | null,
): Promise<void> {
  try {
    if (handler.apply) {
      const apply = handler.apply.bind(handler);
      // Outside the transaction: a provider may be slow or talk to the network.
      const prepared = handler.prepare ? await handler.prepare(event, ctx) : undefined;
      await ctx.dataSource.transaction(async (tx) => {
        if (await claimOutboxEffect(tx, handler.name, event.id)) await apply(tx, event, ctx, prepared);
        if (alsoInTransaction) await alsoInTransaction(tx);
      });
    }
    if (handler.afterCommit) await handler.afterCommit(event, ctx);
  } catch (err) {
    const message = `handler ${handler.name} failed on ${event.topic} #${event.id}: ${describeError(err)}`;
    if (isPermanentJobError(err)) throw new PermanentJobError(message, { cause: err });
    throw new Error(message, { cause: err });
  }
}

/** The event, and whether an earlier event of its order has not finished yet (one round trip). */
async function loadEvent(ctx: JobsContext, id: string): Promise<{ event: RelayedEvent; blocked: boolean }> {
  const found = await loadOutboxEventForDelivery(ctx.dataSource, id);
  if (!found) throw new PermanentJobError(`outbox event #${id} does not exist (pruned?)`);
  return found;
}

/**
 * Records the event's delivery and marks the next event of its order relayed, in one statement;
 * returns that next event (to enqueue after the commit), if any.
 */
function finish(
  db: Pick<EntityManager, 'query'>, ctx: JobsContext, event: RelayedEvent, state: OutboxDeliveryState, error: string | null,
): Promise<OutboxEventRef[]> {
  return recordOutboxDelivery(db, { eventId: event.id, orderId: event.orderId, state, error, finishedAt: ctx.clock.now() });
}
