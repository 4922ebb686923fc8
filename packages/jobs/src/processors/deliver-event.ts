import { DelayedError, type Job } from 'bullmq';
import type { JobsContext } from '../context';
import { describeError, isPermanentJobError, PermanentJobError } from '../job-errors';
import { handlersFor, type EventHandler, type RelayedEvent } from '../outbox/event-handler';
import type { DeliverEventPayload } from '../queues';
import { isLastAttempt } from '../retry-policy';

/**
 * Runs every handler subscribed to one outbox event.
 *
 * In order per order: an event waits (the job is delayed, no attempt is used) while an earlier
 * event of the same order has no delivery record yet. An earlier event that ended in the failed
 * list has a `failed` record, so it does not hold its order back for ever; retried from the
 * control panel, it runs again on its own.
 *
 * Exactly-once effects: see {@link EventHandler}. A handler that already committed is skipped on
 * redelivery, so a retry after handler B failed does not repeat handler A.
 */
export function deliverEventProcessor(ctx: JobsContext, handlers: readonly EventHandler[]) {
  return async (job: Job<DeliverEventPayload>, token?: string): Promise<{ handlers: string[] }> => {
    const event = await loadEvent(ctx, job.data.eventId);
    if (event.orderId !== null && (await hasUnfinishedPredecessor(ctx, event))) {
      await job.moveToDelayed(Date.now() + ctx.config.worker.orderWaitMs, token);
      throw new DelayedError();
    }
    const ran: string[] = [];
    try {
      for (const handler of handlersFor(handlers, event.topic)) {
        await runHandler(ctx, handler, event);
        ran.push(handler.name);
      }
    } catch (err) {
      if (isPermanentJobError(err) || isLastAttempt(job)) await recordDelivery(ctx, event, 'failed', describeError(err));
      throw err;
    }
    await recordDelivery(ctx, event, 'done', null);
    return { handlers: ran };
  };
}

async function runHandler(ctx: JobsContext, handler: EventHandler, event: RelayedEvent): Promise<void> {
  try {
    if (handler.apply) {
      const apply = handler.apply.bind(handler);
      await ctx.dataSource.transaction(async (tx) => {
        const claimed: unknown[] = await tx.query(
          `INSERT INTO outbox_effect (handler, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
          [handler.name, event.id],
        );
        if (claimed.length > 0) await apply(tx, event, ctx);
      });
    }
    if (handler.afterCommit) await handler.afterCommit(event, ctx);
  } catch (err) {
    const message = `handler ${handler.name} failed on ${event.topic} #${event.id}: ${describeError(err)}`;
    if (isPermanentJobError(err)) throw new PermanentJobError(message, { cause: err });
    throw new Error(message, { cause: err });
  }
}

async function loadEvent(ctx: JobsContext, id: string): Promise<RelayedEvent> {
  const rows: { id: string; topic: string; organizer_id: string | null; order_id: string | null; payload: Record<string, unknown>; created_at: Date }[] =
    await ctx.dataSource.query(`SELECT id::text AS id, topic, organizer_id, order_id, payload, created_at FROM outbox_event WHERE id = $1`, [id]);
  const row = rows[0];
  if (!row) throw new PermanentJobError(`outbox event #${id} does not exist (pruned?)`);
  return { id: row.id, topic: row.topic, organizerId: row.organizer_id, orderId: row.order_id, payload: row.payload, createdAt: row.created_at };
}

async function hasUnfinishedPredecessor(ctx: JobsContext, event: RelayedEvent): Promise<boolean> {
  const rows: unknown[] = await ctx.dataSource.query(
    `SELECT 1 FROM outbox_event e
      WHERE e.order_id = $1 AND e.id < $2
        AND NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.event_id = e.id)
      LIMIT 1`,
    [event.orderId, event.id],
  );
  return rows.length > 0;
}

async function recordDelivery(ctx: JobsContext, event: RelayedEvent, state: 'done' | 'failed', error: string | null): Promise<void> {
  await ctx.dataSource.query(
    `INSERT INTO outbox_delivery (event_id, order_id, state, error, finished_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (event_id) DO UPDATE SET state = EXCLUDED.state, error = EXCLUDED.error, finished_at = EXCLUDED.finished_at`,
    [event.id, event.orderId, state, error, ctx.clock.now()],
  );
}
