import type { EntityManager } from 'typeorm';
import { orderMachine, type OrderStatus } from '../order/order.machine';
import { Event } from '../event/event.entity';
import { Order } from '../order/order.entity';
import { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine, type PaymentState } from '../payment/payment.machine';

type Db = Pick<EntityManager, 'query'>;

/** The order, event and organizer an email talks about. */
export interface OrderMailRow {
  readonly id: string;
  readonly organizerId: string;
  readonly code: string;
  readonly secret: string;
  readonly email: string | null;
  /** The buyer's language. */
  readonly locale: string;
  /** Minor units, as a string (bigint). */
  readonly total: string;
  readonly currency: string;
  readonly status: OrderStatus;
  readonly expires: Date;
  readonly eventName: string;
  readonly eventSlug: string;
  /** The event's language: organizer mails use it, not the buyer's. */
  readonly eventLocale: string;
  readonly timezone: string;
  readonly organizerName: string;
  readonly organizerSlug: string;
}

/** The order with its event and organizer, or null. */
export async function loadOrderMailRow(db: Db, orderId: string): Promise<OrderMailRow | null> {
  const rows: {
    id: string; organizer_id: string; code: string; secret: string; email: string | null; locale: string; total: string; currency: string;
    status: OrderStatus; expires: Date; event_name: string; event_slug: string; timezone: string; event_locale: string; organizer_name: string; organizer_slug: string;
  }[] = await db.query(
    `SELECT o.id, o.organizer_id, o.code, o.secret, o.email, o.locale, o.total::text AS total, o.currency, o.status, o.expires,
            e.name AS event_name, e.slug AS event_slug, e.timezone, e.locale AS event_locale,
            g.name AS organizer_name, g.slug AS organizer_slug
       FROM kassa_order o JOIN event e ON e.id = o.event_id JOIN organizer g ON g.id = o.organizer_id
      WHERE o.id = $1`,
    [orderId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id, organizerId: r.organizer_id, code: r.code, secret: r.secret, email: r.email, locale: r.locale, total: r.total,
    currency: r.currency, status: r.status, expires: r.expires, eventName: r.event_name, eventSlug: r.event_slug,
    eventLocale: r.event_locale, timezone: r.timezone, organizerName: r.organizer_name, organizerSlug: r.organizer_slug,
  };
}

/** A payment's amount (minor units as a string) and currency, if it belongs to the order. */
export async function loadPaymentAmount(db: Db, paymentId: string, orderId: string): Promise<{ amount: string; currency: string } | null> {
  const rows: { amount: string; currency: string }[] = await db.query(
    `SELECT amount::text AS amount, currency FROM order_payment WHERE id = $1 AND order_id = $2`, [paymentId, orderId]);
  return rows[0] ?? null;
}

/**
 * The order's newest open payment with its order and event, as a provider's hooks receive them
 * (the "payment pending" text of the order-placed email), or null when none is open.
 */
export async function loadOpenPaymentForMail(
  db: Pick<EntityManager, 'query' | 'getRepository'>, orderId: string,
): Promise<{ order: Order; payment: OrderPayment; event: Event } | null> {
  const rows: { id: string }[] = await db.query(
    `SELECT p.id FROM order_payment p WHERE p.order_id = $1 AND ${paymentMachine.sqlIn('open', 'p.state')} ORDER BY p.local_id DESC LIMIT 1`, [orderId]);
  if (!rows[0]) return null;
  const payment = await db.getRepository(OrderPayment).findOneBy({ id: rows[0].id });
  const order = await db.getRepository(Order).findOneBy({ id: orderId });
  const event = order ? await db.getRepository(Event).findOneBy({ id: order.eventId }) : null;
  return payment && order && event ? { order, payment, event } : null;
}

/** A payment's state and its order's status, if the payment belongs to the order. */
export async function loadPaymentAndOrderState(db: Db, paymentId: string, orderId: string): Promise<{ paymentState: PaymentState; orderStatus: OrderStatus } | null> {
  const rows: { state: PaymentState; status: OrderStatus }[] = await db.query(
    `SELECT p.state, o.status FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE p.id = $1 AND o.id = $2`,
    [paymentId, orderId],
  );
  return rows[0] ? { paymentState: rows[0].state, orderStatus: rows[0].status } : null;
}

/** What a refund email says about a refund of the order. */
export async function loadRefundForMail(db: Db, refundId: string, orderId: string): Promise<{ amount: string; currency: string; comment: string; provider: string } | null> {
  const rows: { amount: string; currency: string; comment: string; provider: string }[] = await db.query(
    `SELECT amount::text AS amount, currency, comment, provider FROM order_refund WHERE id = $1 AND order_id = $2`, [refundId, orderId]);
  return rows[0] ?? null;
}

/** Active members of the organizer's admin teams, by address; never anyone of another organizer. */
export async function organizerAdminEmails(db: Db, organizerId: string): Promise<string[]> {
  const rows: { email: string }[] = await db.query(
    `SELECT DISTINCT u.email FROM team t
       JOIN team_member tm ON tm.team_id = t.id JOIN app_user u ON u.id = tm.user_id
      WHERE t.organizer_id = $1 AND (t.is_admin OR t.can_change_organizer_settings) AND u.is_active ORDER BY u.email`,
    [organizerId],
  );
  return rows.map((r) => r.email);
}

export interface ReminderDueQuery {
  readonly now: Date;
  /** Orders expiring up to this time… */
  readonly expiringBy: Date;
  /** …and placed before this one. */
  readonly placedBefore: Date;
  /** An order with an email whose dedup key is this prefix plus its id has been reminded already. */
  readonly dedupKeyPrefix: string;
  readonly limit: number;
}

/**
 * Orders awaiting payment, with an address, that expire after `now` and by `expiringBy`, were
 * placed before `placedBefore` and have no reminder yet; soonest deadline first.
 */
export async function ordersDueForReminder(db: Db, q: ReminderDueQuery): Promise<string[]> {
  const rows: { id: string }[] = await db.query(
    `SELECT o.id FROM kassa_order o
      WHERE ${orderMachine.sqlIn('awaitingPayment', 'o.status')} AND o.email IS NOT NULL
        AND o.expires > $1 AND o.expires <= $2 AND o.created_at <= $3
        AND NOT EXISTS (SELECT 1 FROM email_message m WHERE m.dedup_key = $5 || o.id::text)
      ORDER BY o.expires LIMIT $4`,
    [q.now, q.expiringBy, q.placedBefore, q.limit, q.dedupKeyPrefix],
  );
  return rows.map((r) => r.id);
}
