import { ordersToShred, shredPreview, writeEventTaskLog, type Actor, type ActorType, type Clock, type DataSource, type KassaCore } from '@kassa/core/host';
import type { BulkTask, BulkTaskStore } from './bulk-task.store';

/** What a shred task's params hold: one order, or every order of one event. */
export interface ShredParams {
  eventId: string | null;
  orderId: string | null;
  /** The order code or event slug the confirmation named (shown in the task list). */
  label: string;
}

export interface ShredRunnerDeps {
  dataSource: DataSource;
  core: KassaCore;
  clock: Clock;
  store: BulkTaskStore;
}

/**
 * Runs one shred task: the orders still holding personal data, a page at a time, each through
 * core's shredOrder (which asks each payment's and refund's provider what to keep, and writes the
 * order log entry with the task's actor), then, for an event, one entry in the event's own log.
 * Amounts, states and provider references stay. A retried
 * job goes on where the last attempt stopped: shredded orders are no longer in the list.
 */
export async function runShred(deps: ShredRunnerDeps, taskId: string): Promise<BulkTask | null> {
  const { store } = deps;
  const task = await store.start(taskId, deps.clock.now(), { dropFile: false });
  if (!task) return null;
  const p = task.params as unknown as ShredParams;
  const scope = { organizerId: task.organizerId, eventId: p.eventId, orderId: p.orderId };
  const remaining = (await shredPreview(deps.dataSource, scope)).orders;
  let done = task.done;
  await store.progress(taskId, done, done + remaining);
  const actor: Actor = { type: task.actorType as ActorType, id: task.actorId };
  let after: string | null = null;
  for (;;) {
    const ids = await ordersToShred(deps.dataSource, scope, after, 100);
    if (ids.length === 0) break;
    for (const id of ids) {
      await deps.core.orders.shredOrder(id, actor);
      done += 1;
    }
    after = ids[ids.length - 1]!;
    await store.progress(taskId, done);
  }
  // The event's own log keeps that its orders were shredded, by whom and how many (each order's log has its own entry).
  if (p.eventId) {
    await writeEventTaskLog(deps.dataSource, { organizerId: task.organizerId, eventId: p.eventId, action: 'kassa.event.shredded', actor, taskId, data: { orders: done } });
  }
  // Earlier exports may hold what was just removed: their files go too.
  await store.removeFiles(deps.clock.now(), task.organizerId, 'removed by the data shredder');
  await store.finish(taskId, deps.clock.now());
  return store.byId(taskId);
}
