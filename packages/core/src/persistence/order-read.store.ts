import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { LogEntry } from '../audit/log-entry.entity';
import { prepared, queryPrepared } from '../db/prepared-query';
import { Event } from '../event/event.entity';
import { Product } from '../event/product.entity';
import { OrderFee } from '../order/order-fee.entity';
import { OrderPosition } from '../order/order-position.entity';
import { Order } from '../order/order.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine } from '../payment/payment.machine';
import { OrderRefund } from '../refund/order-refund.entity';

const placedWithKeySql = prepared('shop_placed_with_key', 'SELECT 1 FROM kassa_order WHERE event_id = $1 AND idempotency_key = $2');

/** An order's rows as its pages and API representations show them. */
export interface OrderParts {
  positions: OrderPosition[];
  fees: OrderFee[];
  payments: OrderPayment[];
  refunds: OrderRefund[];
}

/** The control panel's landing figures for one organizer. */
export interface DashboardFigures {
  /** Orders per status. */
  byStatus: Record<string, number>;
  /** Money received (payments that count), per currency: amounts are never summed across currencies. */
  revenue: { currency: string; paid: number }[];
}

/**
 * Reads of orders and what hangs off them (positions, fees, payments, refunds, the order log) for
 * the control panel, the REST API and the buyer's order page. Every read is scoped by organizer:
 * another organizer's id answers null or an empty list, worded nowhere differently from a missing
 * one. Writes go through the order, payment and refund services, never through here.
 */
export class OrderReadStore {
  constructor(private readonly ds: DataSource) {}

  /** One of the organizer's orders, or null. */
  order(organizerId: string, orderId: string): Promise<Order | null> {
    return this.ds.getRepository(Order).findOneBy({ id: orderId, organizerId });
  }

  /** The organizer's orders with this code (codes are unique per event): at most `limit`. */
  ordersByCode(organizerId: string, code: string, limit = 2): Promise<Order[]> {
    return this.ds.getRepository(Order).find({ where: { code, organizerId }, take: limit });
  }

  /** An order of an event by its code (the buyer's link; the caller checks the secret). */
  orderOfEventByCode(eventId: string, code: string): Promise<Order | null> {
    return this.ds.manager.findOneBy(Order, { eventId, code });
  }

  /** One of the organizer's payments with its order, or null. */
  async payment(organizerId: string, paymentId: string): Promise<{ payment: OrderPayment; order: Order } | null> {
    const payment = await this.ds.getRepository(OrderPayment).findOneBy({ id: paymentId });
    const order = payment ? await this.order(organizerId, payment.orderId) : null;
    return payment && order ? { payment, order } : null;
  }

  /** One of the organizer's refunds with its order, or null. */
  async refund(organizerId: string, refundId: string): Promise<{ refund: OrderRefund; order: Order } | null> {
    const refund = await this.ds.getRepository(OrderRefund).findOneBy({ id: refundId });
    const order = refund ? await this.order(organizerId, refund.orderId) : null;
    return refund && order ? { refund, order } : null;
  }

  /** The order's payments, oldest first. */
  payments(organizerId: string, orderId: string): Promise<OrderPayment[]> {
    return this.childrenOf(OrderPayment, organizerId, orderId).orderBy('x.localId', 'ASC').getMany();
  }

  /** The order's refunds, oldest first. */
  refunds(organizerId: string, orderId: string): Promise<OrderRefund[]> {
    return this.childrenOf(OrderRefund, organizerId, orderId).orderBy('x.localId', 'ASC').getMany();
  }

  /** The order's positions in order, and its fees (only live ones with `liveFees`). */
  async positionsAndFees(organizerId: string, orderId: string, opts: { liveFees?: boolean } = {}): Promise<Pick<OrderParts, 'positions' | 'fees'>> {
    const fees = this.childrenOf(OrderFee, organizerId, orderId);
    if (opts.liveFees) fees.andWhere('x.canceled = false');
    const [positions, feeRows] = await Promise.all([
      this.childrenOf(OrderPosition, organizerId, orderId).orderBy('x.positionNo', 'ASC').getMany(),
      fees.getMany(),
    ]);
    return { positions, fees: feeRows };
  }

  /** Positions, fees, payments and refunds of the order, read side by side. */
  async parts(organizerId: string, orderId: string): Promise<OrderParts> {
    const [{ positions, fees }, payments, refunds] = await Promise.all([
      this.positionsAndFees(organizerId, orderId), this.payments(organizerId, orderId), this.refunds(organizerId, orderId),
    ]);
    return { positions, fees, payments, refunds };
  }

  /** The order's newest log entries, newest first. */
  log(organizerId: string, orderId: string, limit = 100): Promise<LogEntry[]> {
    return this.childrenOf(LogEntry, organizerId, orderId).orderBy('x.id', 'DESC').limit(limit).getMany();
  }

  /** The organizer's event, or null. */
  event(organizerId: string, eventId: string): Promise<Event | null> {
    return this.ds.getRepository(Event).findOneBy({ id: eventId, organizerId });
  }

  /** Product names by id, for the products of the organizer's events among `ids`. */
  async productNames(organizerId: string, ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows: { id: string; name: string }[] = await this.ds.query(
      `SELECT p.id, p.name FROM product p JOIN event e ON e.id = p.event_id AND e.organizer_id = $2 WHERE p.id = ANY($1::uuid[])`,
      [[...new Set(ids)], organizerId],
    );
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  /** The products of one of the organizer's events, in display order (the change form's choice). */
  productsOfEvent(organizerId: string, eventId: string): Promise<Product[]> {
    return this.ds.getRepository(Product).createQueryBuilder('p')
      .innerJoin(Event, 'e', 'e.id = p.eventId AND e.organizerId = :organizerId', { organizerId })
      .where('p.eventId = :eventId', { eventId })
      .orderBy('p.position', 'ASC').addOrderBy('p.name', 'ASC')
      .getMany();
  }

  /** Orders per status and money received per currency. */
  async dashboard(organizerId: string): Promise<DashboardFigures> {
    const [counts, revenue] = await Promise.all([
      this.ds.query('SELECT status, count(*)::int AS n FROM kassa_order WHERE organizer_id = $1 GROUP BY status', [organizerId]) as Promise<{ status: string; n: number }[]>,
      this.ds.query(
        `SELECT o.currency, sum(p.amount)::text AS paid
           FROM order_payment p JOIN kassa_order o ON o.id = p.order_id
          WHERE o.organizer_id = $1 AND ${paymentMachine.sqlIn('counting', 'p.state')}
          GROUP BY o.currency ORDER BY o.currency`, [organizerId],
      ) as Promise<{ currency: string; paid: string }[]>,
    ]);
    return {
      byStatus: Object.fromEntries(counts.map((c) => [c.status, c.n])),
      revenue: revenue.map((r) => ({ currency: r.currency, paid: Number(r.paid) })),
    };
  }

  /** Whether an order of the event carries this idempotency key (the shop's confirm-form key). */
  async placedWithKey(eventId: string, key: string): Promise<boolean> {
    const rows = await queryPrepared(this.ds.manager, placedWithKeySql, [eventId, key]);
    return rows.length > 0;
  }

  /** Rows of `entity` (which has an orderId) belonging to the organizer's order. */
  private childrenOf<T extends ObjectLiteral>(entity: EntityTarget<T>, organizerId: string, orderId: string) {
    return this.ds.getRepository(entity).createQueryBuilder('x')
      .innerJoin(Order, 'o', 'o.id = x.orderId AND o.organizerId = :organizerId', { organizerId })
      .where('x.orderId = :orderId', { orderId });
  }
}
