import {
  claimOutboxEffect, loadOutboxEventsForDelivery, outboxEffectKey, recordOutboxDelivery, settleOutboxBatch,
  type OutboxDeliveryRecord, type OutboxDeliveryState, type OutboxEventRef,
} from '@kassa/core/host';
import type { JobsContext } from '../context';
import type { EventHandler, RelayedEvent } from './event-handler';
import { GroupBatcher, type BatchEntry } from '@kassa/core/host';

/** An event as the event job loads it, with whether an earlier event of its order is unfinished. */
export interface LoadedEvent {
  readonly event: RelayedEvent;
  readonly blocked: boolean;
}

/** An order's next event, marked relayed by a delivery record; loaded already when the shared statement returned it. */
export type NextEvent = OutboxEventRef & { readonly loaded?: LoadedEvent };

/** One transaction's worth of an event job: a handler's effect (with its ledger claim), the event's delivery record, or both. */
export interface EventStep {
  /** The handler whose `apply` runs, once per event thanks to the ledger; absent: only the delivery record. */
  readonly handler?: EventHandler;
  readonly event: RelayedEvent;
  /** What the handler's `prepare` returned. */
  readonly prepared?: unknown;
  /** Records the end of the event's handling with the effect, which hands its order's line on. */
  readonly delivery?: { readonly state: OutboxDeliveryState; readonly error: string | null };
}

/** Batches in flight at once; the steps that arrive meanwhile go together in the next one. */
const MAX_IN_FLIGHT = 2;
/** Steps per transaction, bounding how long its row locks are held and how much one failure re-runs. */
const MAX_BATCH = 64;

/**
 * The database work of the event jobs running at once in this process, shared (group commit): the
 * loads of their events are one statement, and their steps one transaction with one statement for
 * every ledger claim, delivery record and successor mark, plus each handler's own writes. A batch
 * whose transaction fails runs each step again alone, so a failing handler fails only its own job
 * (its effects were rolled back with the batch, so nothing happens twice). Every step still commits
 * before its job goes on: the guarantees of {@link EventHandler} are unchanged.
 */
export class EventSteps {
  private readonly loads: GroupBatcher<string, LoadedEvent | null>;
  private readonly steps: GroupBatcher<EventStep, NextEvent[]>;

  constructor(private readonly ctx: JobsContext) {
    this.loads = new GroupBatcher((batch) => this.loadBatch(batch), MAX_IN_FLIGHT, MAX_BATCH * 4);
    this.steps = new GroupBatcher((batch) => this.runBatch(batch), MAX_IN_FLIGHT, MAX_BATCH);
  }

  /** The event and whether it must wait for an earlier one; null when it does not exist (pruned?). */
  load(eventId: string): Promise<LoadedEvent | null> {
    // A hand-made job could carry anything; only a bigint can name an event.
    if (!/^\d{1,19}$/.test(eventId)) return Promise.resolve(null);
    return this.loads.submit(eventId);
  }

  /**
   * Runs the step in a transaction shared with other jobs' steps; resolves after the commit with
   * the events the delivery record marked relayed (the order's next event), for the caller to run or enqueue.
   */
  run(step: EventStep): Promise<NextEvent[]> {
    return this.steps.submit(step);
  }

  private async loadBatch(batch: BatchEntry<string, LoadedEvent | null>[]): Promise<void> {
    const found = await loadOutboxEventsForDelivery(this.ctx.dataSource, [...new Set(batch.map((p) => p.item))]);
    for (const p of batch) p.resolve(found.get(p.item) ?? null);
  }

  private async runBatch(batch: BatchEntry<EventStep, NextEvent[]>[]): Promise<void> {
    let settled: { next: NextEvent[]; deliveries: Map<string, EventStep> };
    try {
      settled = await this.ctx.dataSource.transaction(async (tx) => {
        // The same event twice at once (a redelivery racing its first job): the first step claims
        // and applies, the others find it claimed, as they would one after the other.
        const claims = new Map<string, EventStep>();
        const deliveries = new Map<string, EventStep>();
        for (const { item } of batch) {
          if (item.handler?.apply) {
            const key = outboxEffectKey(item.handler.name, item.event.id);
            if (!claims.has(key)) claims.set(key, item);
          }
          if (item.delivery) deliveries.set(item.event.id, item);
        }
        const { claimed, next } = await settleOutboxBatch(
          tx,
          [...claims.values()].map((s) => ({ handler: s.handler!.name, eventId: s.event.id })),
          [...deliveries.values()].map((s) => this.record(s)),
        );
        for (const [key, step] of claims) {
          if (claimed.has(key)) await step.handler!.apply!.call(step.handler, tx, step.event, this.ctx, step.prepared);
        }
        return { next, deliveries };
      });
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Which step failed is not known: each runs again alone, and only its own error fails its job.
      await Promise.all(batch.map((p) => this.runAlone(p.item).then(p.resolve, p.reject)));
      return;
    }
    // Each successor goes to the step that recorded its order's latest delivery, so it is run or
    // enqueued once.
    const owner = new Map<string, EventStep>();
    for (const step of settled.deliveries.values()) {
      const order = step.event.orderId;
      const current = order ? owner.get(order) : undefined;
      if (order && (!current || BigInt(step.event.id) > BigInt(current.event.id))) owner.set(order, step);
    }
    const handed = new Map<EventStep, NextEvent[]>();
    for (const n of settled.next) {
      const step = (n.orderId ? owner.get(n.orderId) : undefined) ?? batch[0]!.item;
      handed.set(step, [...(handed.get(step) ?? []), n]);
    }
    for (const p of batch) p.resolve(handed.get(p.item) ?? []);
  }

  private async runAlone(step: EventStep): Promise<OutboxEventRef[]> {
    const apply = step.handler?.apply;
    if (!apply) return step.delivery ? recordOutboxDelivery(this.ctx.dataSource, this.record(step)) : [];
    return this.ctx.dataSource.transaction(async (tx) => {
      if (await claimOutboxEffect(tx, step.handler!.name, step.event.id)) await apply.call(step.handler, tx, step.event, this.ctx, step.prepared);
      return step.delivery ? recordOutboxDelivery(tx, this.record(step)) : [];
    });
  }

  private record(step: EventStep): OutboxDeliveryRecord {
    return { eventId: step.event.id, orderId: step.event.orderId, state: step.delivery!.state, error: step.delivery!.error, finishedAt: this.ctx.clock.now() };
  }
}
