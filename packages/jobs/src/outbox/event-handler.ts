import type { EntityManager } from '@kassa/core/host';
import type { JobsContext } from '../context';

/** An outbox event as handlers see it. */
export interface RelayedEvent {
  /** outbox_event.id: bigint as a string; increases in commit order within one order. */
  readonly id: string;
  readonly topic: string;
  readonly organizerId: string | null;
  readonly orderId: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
}

/**
 * Reacts to outbox events. Delivery is at least once; the runner makes each effect happen once:
 * `apply` runs in one transaction with a row in the effects ledger keyed by (handler name, event
 * id), so a redelivered event finds the row and skips it.
 */
export interface EventHandler {
  /** Stable and unique: part of the effects key, so never rename a deployed handler. Plugins prefix their name. */
  readonly name: string;
  /** Topics this handler receives, e.g. ["order.paid"]; "*" for all. */
  readonly topics: readonly string[];
  /**
   * Reads what `apply` needs from outside the database (a provider's text), before its
   * transaction opens; runs on every delivery, so it must not change anything. Its result is
   * `apply`'s fourth argument.
   */
  prepare?(event: RelayedEvent, ctx: JobsContext): Promise<unknown>;
  /** The database effect. Never call a provider or the network here: this runs inside a transaction. */
  apply?(tx: EntityManager, event: RelayedEvent, ctx: JobsContext, prepared?: unknown): Promise<void>;
  /**
   * External side effects, after `apply` committed. Runs again on every redelivery, so it must be
   * idempotent on its own (e.g. an idempotency key derived from the event id).
   */
  afterCommit?(event: RelayedEvent, ctx: JobsContext): Promise<void>;
}

/** Checks names and topics once at start, so a mistake fails the boot, not the first delivery. */
export function assertHandlers(handlers: readonly EventHandler[]): void {
  const seen = new Set<string>();
  for (const h of handlers) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(h.name)) throw new Error(`Event handler name "${h.name}" must be lower-case letters, digits, ".", "_" or "-"`);
    if (seen.has(h.name)) throw new Error(`Event handler "${h.name}" is registered twice`);
    seen.add(h.name);
    if (h.topics.length === 0) throw new Error(`Event handler "${h.name}" subscribes to no topic`);
    if (!h.apply && !h.afterCommit) throw new Error(`Event handler "${h.name}" has neither apply nor afterCommit`);
  }
}

export function handlersFor(handlers: readonly EventHandler[], topic: string): EventHandler[] {
  return handlers.filter((h) => h.topics.includes('*') || h.topics.includes(topic));
}
