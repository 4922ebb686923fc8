import { KassaError, OrderReadStore, type DataSource, type Event, type Order, type OrderPayment, type OrderRefund } from '@kassa/core/host';

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Organizer scoping for every route that takes an id: the object is loaded only together with the
 * caller's organizer (core's OrderReadStore). Another organizer's object is NOT_FOUND, worded
 * exactly like a missing one, so neither its data nor its existence leaks (never 403).
 */
export class OrganizerScope {
  /** The scoped reads of orders and their rows, for the routes that hold this scope. */
  readonly reads: OrderReadStore;

  constructor(dataSource: DataSource) {
    this.reads = new OrderReadStore(dataSource);
  }

  async order(organizerId: string, orderId: string): Promise<Order> {
    const order = uuidPattern.test(orderId) ? await this.reads.order(organizerId, orderId) : null;
    if (!order) throw new KassaError('NOT_FOUND', { entity: 'Order' });
    return order;
  }

  /** An order by its code, for the API (codes are unique per event, so the event may be needed). */
  async orderByCode(organizerId: string, code: string): Promise<Order> {
    const orders = await this.reads.ordersByCode(organizerId, code, 2);
    if (orders.length !== 1) throw new KassaError('NOT_FOUND', { entity: 'Order' });
    return orders[0]!;
  }

  async event(organizerId: string, eventId: string): Promise<Event> {
    const event = uuidPattern.test(eventId) ? await this.reads.event(organizerId, eventId) : null;
    if (!event) throw new KassaError('NOT_FOUND', { entity: 'Event' });
    return event;
  }

  async payment(organizerId: string, paymentId: string): Promise<{ payment: OrderPayment; order: Order }> {
    const found = uuidPattern.test(paymentId) ? await this.reads.payment(organizerId, paymentId) : null;
    if (!found) throw new KassaError('NOT_FOUND', { entity: 'Payment' });
    return found;
  }

  async refund(organizerId: string, refundId: string): Promise<{ refund: OrderRefund; order: Order }> {
    const found = uuidPattern.test(refundId) ? await this.reads.refund(organizerId, refundId) : null;
    if (!found) throw new KassaError('NOT_FOUND', { entity: 'Refund' });
    return found;
  }
}
