import { DelayedError, type Job } from 'bullmq';
import type { EntityManager } from '@kassa/core/host';
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
    let next: SuccessorRow[] | null = null;
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
      await ctx.dataSource.transaction(async (tx) => {
        const claimed: unknown[] = await tx.query(
          `INSERT INTO outbox_effect (handler, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
          [handler.name, event.id],
        );
        if (claimed.length > 0) await apply(tx, event, ctx);
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
  const rows: { id: string; topic: string; organizer_id: string | null; order_id: string | null; payload: Record<string, unknown>; created_at: Date; blocked: boolean }[] =
    await ctx.dataSource.query(
      `SELECT e.id::text AS id, e.topic, e.organizer_id, e.order_id, e.payload, e.created_at,
              e.order_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM outbox_event p
                 WHERE p.order_id = e.order_id AND p.id < e.id
                   AND NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.event_id = p.id)) AS blocked
         FROM outbox_event e WHERE e.id = $1`,
      [id],
    );
  const row = rows[0];
  if (!row) throw new PermanentJobError(`outbox event #${id} does not exist (pruned?)`);
  return {
    event: { id: row.id, topic: row.topic, organizerId: row.organizer_id, orderId: row.order_id, payload: row.payload, createdAt: row.created_at },
    blocked: row.blocked,
  };
}

interface SuccessorRow {
  id: string;
  topic: string;
  order_id: string | null;
}

/**
 * Records the event's delivery and marks the next event of its order relayed, in one statement;
 * returns that next event (to enqueue after the commit), if any.
 */
async function finish(
  db: Pick<EntityManager, 'query'>, ctx: JobsContext, event: RelayedEvent, state: 'done' | 'failed', error: string | null,
): Promise<SuccessorRow[]> {
  return db.query(
    `WITH delivery AS (
       INSERT INTO outbox_delivery (event_id, order_id, state, error, finished_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (event_id) DO UPDATE SET state = EXCLUDED.state, error = EXCLUDED.error, finished_at = EXCLUDED.finished_at
     ), successor AS (
       UPDATE outbox_event SET relayed_at = now()
        WHERE id = (SELECT n.id FROM outbox_event n
                     WHERE n.order_id = $2 AND n.id > $1 AND n.relayed_at IS NULL ORDER BY n.id LIMIT 1)
          AND relayed_at IS NULL
        RETURNING id, topic, order_id
     )
     SELECT id::text AS id, topic, order_id FROM successor`,
    [event.id, event.orderId, state, error, ctx.clock.now()],
  );
}
