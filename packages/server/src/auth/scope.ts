import { Event, KassaError, Order, OrderPayment, OrderRefund, type DataSource } from '@kassa/core/host';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Organizer scoping for every route that takes an id: the object is loaded only together with the
 * caller's organizer. Another organizer's object is NOT_FOUND, worded exactly like a missing one,
 * so neither its data nor its existence leaks (never 403).
 */
export class OrganizerScope {
  constructor(private readonly dataSource: DataSource) {}

  async order(organizerId: string, orderId: string): Promise<Order> {
    const order = uuidPattern.test(orderId) ? await this.dataSource.getRepository(Order).findOneBy({ id: orderId, organizerId }) : null;
    if (!order) throw new KassaError('NOT_FOUND', { entity: 'Order' });
    return order;
  }

  /** An order by its code, for the API (codes are unique per event, so the event may be needed). */
  async orderByCode(organizerId: string, code: string): Promise<Order> {
    const orders = await this.dataSource.getRepository(Order).find({ where: { code, organizerId }, take: 2 });
    if (orders.length !== 1) throw new KassaError('NOT_FOUND', { entity: 'Order' });
    return orders[0]!;
  }

  async event(organizerId: string, eventId: string): Promise<Event> {
    const event = uuidPattern.test(eventId) ? await this.dataSource.getRepository(Event).findOneBy({ id: eventId, organizerId }) : null;
    if (!event) throw new KassaError('NOT_FOUND', { entity: 'Event' });
    return event;
  }

  async payment(organizerId: string, paymentId: string): Promise<{ payment: OrderPayment; order: Order }> {
    const payment = uuidPattern.test(paymentId) ? await this.dataSource.getRepository(OrderPayment).findOneBy({ id: paymentId }) : null;
    const order = payment ? await this.dataSource.getRepository(Order).findOneBy({ id: payment.orderId, organizerId }) : null;
    if (!payment || !order) throw new KassaError('NOT_FOUND', { entity: 'Payment' });
    return { payment, order };
  }

  async refund(organizerId: string, refundId: string): Promise<{ refund: OrderRefund; order: Order }> {
    const refund = uuidPattern.test(refundId) ? await this.dataSource.getRepository(OrderRefund).findOneBy({ id: refundId }) : null;
    const order = refund ? await this.dataSource.getRepository(Order).findOneBy({ id: refund.orderId, organizerId }) : null;
    if (!refund || !order) throw new KassaError('NOT_FOUND', { entity: 'Refund' });
    return { refund, order };
  }
}
