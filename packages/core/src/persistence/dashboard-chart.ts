import type { DataSource } from 'typeorm';
import { orderMachine } from '../order/order.machine';
import { paymentMachine } from '../payment/payment.machine';
import { refundMachine } from '../refund/refund.machine';
import { orderSumsJoins, orderSumsSql } from './order-sums';

/*
 * The dashboard's chart and the figures organizers act on. The chart is per event (one currency,
 * days in the event's time zone); the figures are per organizer, amounts per currency.
 */

/** One day of an event's chart. Amounts are minor units of the event currency. */
export interface ChartDay {
  /** YYYY-MM-DD in the event's time zone. */
  day: string;
  /** Orders placed that day, by what they are now. */
  paidOrders: number;
  pendingOrders: number;
  otherOrders: number;
  /** Money received that day (payments that count, by payment date) and refunded that day (refunds that count). */
  revenue: number;
  refunded: number;
}

export interface EventChart {
  eventId: string;
  currency: string;
  timezone: string;
  days: ChartDay[];
}

/** What needs the organizer's attention. */
export interface AttentionFigures {
  /** Still to be paid on open orders, per currency. */
  openAmount: { currency: string; amount: number }[];
  /** Orders holding more than they should (money to return). */
  overpaidOrders: number;
  /** Manual refunds to pay out, and failed refunds of orders that still owe money back. */
  refundsWaiting: number;
  /** Refunds made outside Kassa, waiting for the organizer's decision. */
  externalRefundsWaiting: number;
}

/**
 * The event's days from its first order (or `from`) to `to`, at most `maxDays` of them, ending at
 * `to`; null when the event is not the organizer's. Days without orders or money are included
 * (as zeros), so a chart's x axis is continuous.
 */
export async function eventChart(ds: DataSource, organizerId: string, eventId: string, to: Date, maxDays = 90): Promise<EventChart | null> {
  const events: { currency: string; timezone: string }[] = await ds.query(
    'SELECT currency, timezone FROM event WHERE id = $1 AND organizer_id = $2', [eventId, organizerId]);
  const event = events[0];
  if (!event) return null;
  const rows: Record<string, unknown>[] = await ds.query(`
    WITH bounds AS (
      SELECT ($3::timestamptz AT TIME ZONE $2)::date AS last_day,
             greatest(
               coalesce((SELECT (min(o.created_at) AT TIME ZONE $2)::date FROM kassa_order o WHERE o.event_id = $1), ($3::timestamptz AT TIME ZONE $2)::date),
               ($3::timestamptz AT TIME ZONE $2)::date - ($4::int - 1)) AS first_day
    ), days AS (
      SELECT generate_series(first_day, last_day, interval '1 day')::date AS day FROM bounds
    ), placed AS (
      SELECT (o.created_at AT TIME ZONE $2)::date AS day,
             count(*) FILTER (WHERE ${orderMachine.sqlIn('paid', 'o.status')})::int AS paid,
             count(*) FILTER (WHERE ${orderMachine.sqlIn('awaitingPayment', 'o.status')})::int AS pending,
             count(*) FILTER (WHERE ${orderMachine.sqlIn('closed', 'o.status')})::int AS other
        FROM kassa_order o WHERE o.event_id = $1 GROUP BY 1
    ), received AS (
      SELECT (coalesce(p.payment_date, p.created_at) AT TIME ZONE $2)::date AS day, sum(p.amount) AS amount
        FROM order_payment p JOIN kassa_order o ON o.id = p.order_id
       WHERE o.event_id = $1 AND ${paymentMachine.sqlIn('counting', 'p.state')} GROUP BY 1
    ), returned AS (
      SELECT (coalesce(r.execution_date, r.created_at) AT TIME ZONE $2)::date AS day, sum(r.amount) AS amount
        FROM order_refund r JOIN kassa_order o ON o.id = r.order_id
       WHERE o.event_id = $1 AND ${refundMachine.sqlIn('counting', 'r.state')} GROUP BY 1
    )
    SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(pl.paid, 0) AS paid, coalesce(pl.pending, 0) AS pending, coalesce(pl.other, 0) AS other,
           coalesce(rc.amount, 0)::text AS revenue, coalesce(rt.amount, 0)::text AS refunded
      FROM days d LEFT JOIN placed pl ON pl.day = d.day LEFT JOIN received rc ON rc.day = d.day LEFT JOIN returned rt ON rt.day = d.day
     ORDER BY d.day`, [eventId, event.timezone, to.toISOString(), maxDays]);
  return {
    eventId, currency: event.currency.trim(), timezone: event.timezone,
    days: rows.map((r) => ({
      day: String(r.day), paidOrders: Number(r.paid), pendingOrders: Number(r.pending), otherOrders: Number(r.other),
      revenue: Number(r.revenue), refunded: Number(r.refunded),
    })),
  };
}

/** The organizer's figures to act on. */
export async function attentionFigures(ds: DataSource, organizerId: string, manualProvider: string): Promise<AttentionFigures> {
  const [open, orders, refunds] = await Promise.all([
    ds.query(`
      SELECT o.currency, sum(${orderSumsSql.pendingSum})::text AS amount
        FROM kassa_order o ${orderSumsJoins}
       WHERE o.organizer_id = $1 AND ${orderMachine.sqlIn('awaitingPayment', 'o.status')} AND ${orderSumsSql.pendingSum} > 0
       GROUP BY o.currency ORDER BY o.currency`, [organizerId]) as Promise<{ currency: string; amount: string }[]>,
    ds.query(`
      SELECT count(*) FILTER (WHERE ${orderSumsSql.isOverpaid})::int AS overpaid
        FROM kassa_order o ${orderSumsJoins} WHERE o.organizer_id = $1`, [organizerId]) as Promise<{ overpaid: number }[]>,
    ds.query(`
      SELECT count(*) FILTER (WHERE ${refundMachine.sqlIn('awaitingDecision', 'r.state')})::int AS external,
             count(*) FILTER (WHERE (${refundMachine.sqlIn('inFlight', 'r.state')} AND r.provider = $2)
                                 OR (${refundMachine.sqlIn('retryable', 'r.state')} AND NOT EXISTS (
                                       SELECT 1 FROM order_refund n WHERE n.order_id = r.order_id AND n.local_id > r.local_id)))::int AS waiting
        FROM order_refund r JOIN kassa_order o ON o.id = r.order_id WHERE o.organizer_id = $1`, [organizerId, manualProvider]) as Promise<{ external: number; waiting: number }[]>,
  ]);
  return {
    openAmount: open.map((r) => ({ currency: r.currency.trim(), amount: Number(r.amount) })),
    overpaidOrders: orders[0]?.overpaid ?? 0,
    refundsWaiting: refunds[0]?.waiting ?? 0,
    externalRefundsWaiting: refunds[0]?.external ?? 0,
  };
}
