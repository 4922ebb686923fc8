import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import type { CoreDeps } from '../order/service-deps';
import { writeLogAndEvent } from '../persistence/audit-outbox';
import {
  insertStoredMethod, listMethodsOfOrder, markMethodRemoved, readCustomer, readOrderOwner, readStoredMethod, readStoredMethodByReference,
  setCustomerProviderRef, updateMethodDetails, upsertCustomer, type CustomerRow, type StoredMethodRow,
} from '../persistence/stored-method.store';
import { readEvent } from '../persistence/payment-rows';
import { withTransaction } from '../persistence/transaction';
import type { SavedMethodDetails, StoredMethodRef } from '../provider/stored-method-types';

/**
 * Customers and their stored payment methods (docs/payment-plans.md): one customer per organizer
 * and buyer e-mail; a method is the provider's reference and display details only.
 */
export class StoredMethodService {
  constructor(private readonly deps: CoreDeps) {}

  /** The customer of the order's buyer (its organizer, its e-mail), created on first use. */
  async customerOfOrder(orderId: string): Promise<CustomerRow> {
    const order = await readOrderOwner(this.deps.dataSource.manager, orderId);
    if (!order) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    if (!order.email) throw new KassaError('VALIDATION_FAILED', { field: 'email', detail: 'a saved payment method needs the buyer\'s e-mail' });
    return upsertCustomer(this.deps.dataSource.manager, order.organizerId, order.email);
  }

  /** Records the provider's customer id for this customer; the first one stored wins and is returned. */
  async setProviderCustomer(customerId: string, provider: string, reference: string): Promise<string> {
    return setCustomerProviderRef(this.deps.dataSource.manager, customerId, provider, reference);
  }

  /** Saves a method the buyer set up in this order's checkout (or on the card refresh page). */
  async save(orderId: string, provider: string, details: SavedMethodDetails): Promise<StoredMethodRow> {
    if (!this.deps.providers.has(provider) || !this.deps.providers.get(provider).storesMethods) {
      throw new KassaError('STORED_METHODS_NOT_SUPPORTED', { provider, payment: '-' });
    }
    if (typeof details.reference !== 'string' || details.reference.length === 0) throw new KassaError('VALIDATION_FAILED', { field: 'reference', detail: 'is required' });
    const customer = await this.customerOfOrder(orderId);
    if (details.customerReference) await this.setProviderCustomer(customer.id, provider, details.customerReference);
    return withTransaction(this.deps.dataSource, async (tx) => {
      const order = (await readOrderOwner(tx, orderId))!;
      const method = await insertStoredMethod(tx, {
        organizerId: order.organizerId, customerId: customer.id, orderId, provider, reference: details.reference,
        brand: details.brand ?? null, last4: details.last4 ?? null, expMonth: details.expMonth ?? null, expYear: details.expYear ?? null,
      });
      await writeLogAndEvent(tx, {
        organizerId: order.organizerId, eventId: order.eventId, orderId, objectType: 'stored_method', objectId: method.id,
        action: 'kassa.order.stored_method.saved', actor: { type: 'provider', id: provider }, data: { brand: method.brand, last4: method.last4 },
      });
      return method;
    });
  }

  /** The methods the order's buyer can use or remove (not removed ones). */
  listForOrder(orderId: string): Promise<StoredMethodRow[]> {
    return listMethodsOfOrder(this.deps.dataSource.manager, orderId);
  }

  get(methodId: string): Promise<StoredMethodRow | null> {
    return readStoredMethod(this.deps.dataSource.manager, methodId);
  }

  byReference(provider: string, reference: string): Promise<StoredMethodRow | null> {
    return readStoredMethodByReference(this.deps.dataSource.manager, provider, reference);
  }

  /** What core hands the provider for a charge: the reference, the provider's customer id, the display details. */
  async ref(methodId: string): Promise<StoredMethodRef | null> {
    const m = await this.get(methodId);
    if (!m || m.removedAt) return null;
    const customer = await readCustomer(this.deps.dataSource.manager, m.customerId);
    return {
      id: m.id, reference: m.reference, customerReference: customer?.providerRefs[m.provider] ?? null,
      brand: m.brand, last4: m.last4, expMonth: m.expMonth, expYear: m.expYear,
    };
  }

  /**
   * The buyer removes a method from their order page. Scoped to the order: a method that is not
   * the order's buyer's is NOT_FOUND. The provider detaches it first (outside any transaction);
   * should that fail, the method is still removed here and can no longer be charged.
   */
  async remove(orderId: string, methodId: string, actor: Actor): Promise<void> {
    const methods = await this.listForOrder(orderId);
    const method = methods.find((x) => x.id === methodId);
    if (!method) throw new KassaError('NOT_FOUND', { entity: `Payment method ${methodId}` });
    const order = (await readOrderOwner(this.deps.dataSource.manager, orderId))!;
    let detached = false;
    if (this.deps.providers.has(method.provider)) {
      const provider = this.deps.providers.get(method.provider);
      const ref = await this.ref(method.id);
      try {
        if (ref) {
          const ctx = await this.deps.providerContext(await readEvent(this.deps.dataSource.manager, order.eventId), method.provider);
          await provider.removeStoredMethod(ctx, ref);
          detached = true;
        }
      } catch {
        detached = false;
      }
    }
    await withTransaction(this.deps.dataSource, async (tx) => {
      if (!(await markMethodRemoved(tx, method.id, this.deps.clock.now()))) return;
      await writeLogAndEvent(tx, {
        organizerId: order.organizerId, eventId: order.eventId, orderId, objectType: 'stored_method', objectId: method.id,
        action: 'kassa.order.stored_method.removed', actor, data: { provider: method.provider, detached },
      });
    });
  }

  /** The provider reports a method gone (Stripe's payment_method.detached): it can no longer be charged. */
  async markDetached(provider: string, reference: string): Promise<boolean> {
    const method = await this.byReference(provider, reference);
    if (!method) return false;
    return markMethodRemoved(this.deps.dataSource.manager, method.id, this.deps.clock.now());
  }

  /** New display details from the provider (a card updated by the network). */
  updateDetails(provider: string, reference: string, d: { brand?: string | null; last4?: string | null; expMonth?: number | null; expYear?: number | null }): Promise<boolean> {
    return updateMethodDetails(this.deps.dataSource.manager, provider, reference, d);
  }
}
