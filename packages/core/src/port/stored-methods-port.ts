import type { KassaCore } from '../kassa-core';
import type { StoredMethodRow } from '../persistence/stored-method.store';
import type { SavedMethodDetails } from '../provider/stored-method-types';
import { instalmentMachine } from '../plan/instalment.machine';

/** A stored method as a plugin sees it: the provider's reference and display details. */
export interface StoredMethodRecord {
  readonly id: string;
  readonly orderId: string | null;
  readonly reference: string;
  readonly brand: string | null;
  readonly last4: string | null;
  readonly expMonth: number | null;
  readonly expYear: number | null;
  readonly removed: boolean;
}

/** The plan of an order as a plugin sees it (for the card refresh and on-session pay pages). */
export interface PlanRecord {
  readonly id: string;
  readonly state: string;
  readonly storedMethodId: string | null;
  readonly instalments: readonly { id: string; seq: number; paymentId: string; amount: number; state: string; dueAt: Date; actionReason: string | null; awaitingBuyer: boolean; settled: boolean }[];
}

/**
 * A plugin's access to stored payment methods and plans (docs/payment-plans.md), for its
 * providers that declare `storesMethods`. Methods are saved under the plugin's provider; a
 * reference of another plugin's provider is never found.
 */
export interface StoredMethodsPort {
  /** The order's buyer as the organizer's customer, with this provider's customer id when one is stored. */
  customerOfOrder(orderId: string): Promise<{ id: string; email: string; providerReference: string | null }>;
  /** Stores the provider's customer id unless one is stored already; returns the one that holds. */
  setCustomerReference(customerId: string, reference: string): Promise<string>;
  /** Saves a method the buyer set up for this order (display details only, never card data). */
  save(orderId: string, details: SavedMethodDetails): Promise<StoredMethodRecord>;
  /** The methods of the order's buyer that are not removed. */
  listForOrder(orderId: string): Promise<StoredMethodRecord[]>;
  /** A method of this plugin's provider by the provider's reference. */
  byReference(reference: string): Promise<StoredMethodRecord | null>;
  /** The provider reports the method detached: it is never charged again. */
  detached(reference: string): Promise<boolean>;
  /** New display details (e.g. a card the network updated). */
  updated(reference: string, details: Omit<SavedMethodDetails, 'reference' | 'customerReference'>): Promise<boolean>;
  /** The order's plan, or null. */
  planOf(orderId: string): Promise<PlanRecord | null>;
  /**
   * The buyer saved a new method (card refresh page): it replaces the old one for the remaining
   * instalments, and the instalments waiting for the buyer are charged with it at the next run.
   */
  replacePlanMethod(orderId: string, methodId: string): Promise<void>;
  /**
   * Before the buyer pays an instalment on-session: holds it against charge runs ('held'), or
   * says a run is charging it right now or its outcome is not known yet ('busy'), or that it is
   * settled. null: the payment is no instalment. The provider must then complete the payment's
   * existing gateway object (one per instalment payment), never start a second one.
   */
  holdInstalment(paymentId: string): Promise<'held' | 'busy' | 'settled' | null>;
}

function record(m: StoredMethodRow): StoredMethodRecord {
  return { id: m.id, orderId: m.orderId, reference: m.reference, brand: m.brand, last4: m.last4, expMonth: m.expMonth, expYear: m.expYear, removed: m.removedAt !== null };
}

/** The host's side: one plugin's stored-methods port (its first provider that stores methods). */
export function createStoredMethodsPort(core: KassaCore, plugin: string, provider: string | null): StoredMethodsPort {
  const actor = { type: 'provider', id: plugin } as const;
  const need = (): string => {
    if (!provider) throw new Error(`plugin ${plugin} has no provider that stores methods`);
    return provider;
  };
  return {
    async customerOfOrder(orderId) {
      const c = await core.storedMethods.customerOfOrder(orderId);
      return { id: c.id, email: c.email, providerReference: c.providerRefs[need()] ?? null };
    },
    setCustomerReference: (customerId, reference) => core.storedMethods.setProviderCustomer(customerId, need(), reference),
    save: async (orderId, details) => record(await core.storedMethods.save(orderId, need(), details)),
    listForOrder: async (orderId) => (await core.storedMethods.listForOrder(orderId)).filter((m) => m.provider === need()).map(record),
    async byReference(reference) {
      const m = await core.storedMethods.byReference(need(), reference);
      return m ? record(m) : null;
    },
    detached: (reference) => core.storedMethods.markDetached(need(), reference),
    updated: (reference, details) => core.storedMethods.updateDetails(need(), reference, details),
    async planOf(orderId) {
      const view = await core.plans.view(orderId);
      if (!view) return null;
      return {
        id: view.plan.id, state: view.plan.state, storedMethodId: view.plan.storedMethodId,
        instalments: view.instalments.map((i) => ({
          id: i.id, seq: i.seq, paymentId: i.paymentId, amount: i.amount, state: i.state, dueAt: i.dueAt, actionReason: i.actionReason,
          awaitingBuyer: instalmentMachine.is('awaitingBuyer', i.state), settled: instalmentMachine.is('settled', i.state),
        })),
      };
    },
    async replacePlanMethod(orderId, methodId) {
      const mine = (await core.storedMethods.listForOrder(orderId)).find((m) => m.id === methodId && m.provider === need());
      if (!mine) throw new Error(`method ${methodId} is not a method of order ${orderId}`);
      await core.plans.useMethod(orderId, methodId, actor);
      await core.plans.retryAwaitingBuyer(orderId, actor);
    },
    holdInstalment: (paymentId) => core.plans.holdForBuyer(paymentId),
  };
}
