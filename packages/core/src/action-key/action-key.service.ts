import { randomUUID } from 'node:crypto';
import { KassaError } from '../errors';
import type { ServiceDeps } from '../order/service-deps';
import { claimActionKey, insertActionKey, releaseActionKey } from '../persistence/action-key.store';
import { isUuid } from '../order/state-writes';

/** Whose form a key belongs to: the organizer, and the order when the page is an order's. */
export interface ActionKeyScope {
  readonly organizerId: string;
  readonly orderId?: string | null;
}

/** How long an issued key can be submitted: the control panel's session lifetime. */
export const ACTION_KEY_LIFETIME_MS = 12 * 60 * 60 * 1000;

/**
 * One-time keys for forms that move money or change an order's state (table action_key). A page
 * gets a fresh key each time it is rendered; its forms carry it; the first submit claims it with
 * one compare-and-set UPDATE, so of two submits of the same form (double click, back button,
 * replay) exactly one acts and the other is refused with ACTION_KEY_INVALID before anything moves.
 * The claim is taken before the action (which may call a provider, so it cannot share the action's
 * transaction) and given back when the action was refused without moving anything, so a corrected
 * form can be sent again.
 */
export class ActionKeyService {
  constructor(private readonly deps: Pick<ServiceDeps, 'dataSource' | 'clock'>) {}

  /** A fresh key for one rendering of a page. Expired keys are deleted on the way. */
  async issue(scope: ActionKeyScope): Promise<string> {
    const key = randomUUID();
    const now = this.deps.clock.now();
    await insertActionKey(this.deps.dataSource, key, scope.organizerId, scope.orderId ?? null, now, new Date(now.getTime() - ACTION_KEY_LIFETIME_MS));
    return key;
  }

  /**
   * Marks the key used, atomically: refused (ACTION_KEY_INVALID) when it is missing, unknown,
   * already used, expired, or was issued to another organizer or for another order.
   */
  async claim(key: unknown, scope: ActionKeyScope): Promise<string> {
    if (typeof key !== 'string' || !isUuid(key)) throw new KassaError('ACTION_KEY_INVALID', { field: '_actionKey' });
    const now = this.deps.clock.now();
    const claimed = await claimActionKey(this.deps.dataSource, key, scope.organizerId, scope.orderId ?? null, now, new Date(now.getTime() - ACTION_KEY_LIFETIME_MS));
    if (!claimed) throw new KassaError('ACTION_KEY_INVALID', { field: '_actionKey' });
    return key;
  }

  /** Gives a claimed key back: the action it guarded was refused and moved nothing. */
  async release(key: string): Promise<void> {
    await releaseActionKey(this.deps.dataSource, key);
  }
}

/**
 * A catalogued refusal (4xx): raised before anything was written, so a key claimed for the action
 * is given back (the server's action guard and plugin `oneTime` routes).
 */
export function isRefusal(err: unknown): boolean {
  return err instanceof KassaError && err.status < 500;
}
