import {
  controlOrderUrl, formatMoney, loadOrderMailRow, loadPaymentAmount, loadRefundForMail, money, orderMachine, orderPageUrl, orderStates,
  type EntityManager, type OrderMailRow, type OrderSet, type OrderStatus,
} from '@kassa/core/host';
import type { JobsContext } from '../context';
import type { RelayedEvent } from '../outbox/event-handler';
import { emailLocale, type EmailViewModel } from './email-templates';

export type { OrderMailRow } from '@kassa/core/host';

export interface MailContext {
  order: OrderMailRow;
  base: EmailViewModel;
  locale: string;
  /** The event's language: organizer mails use it, not the buyer's. */
  eventLocale: string;
  amount(minor: number | string, currency?: string): string;
}

/** The order, event and organizer an email talks about, with formatters for its locale. */
export async function loadOrderMail(tx: EntityManager, orderId: string, ctx: JobsContext): Promise<MailContext | null> {
  const order = await loadOrderMailRow(tx, orderId);
  if (!order) return null;
  const locale = emailLocale(order.locale);
  const amount = (minor: number | string, currency = order.currency) => formatMoney(money(Number(minor), currency.trim()), locale);
  const base: EmailViewModel = {
    organizerName: order.organizerName,
    eventName: order.eventName,
    orderCode: order.code,
    orderUrl: orderPageUrl(ctx.config.publicUrl, { organizerSlug: order.organizerSlug, eventSlug: order.eventSlug, code: order.code, secret: order.secret }),
    total: amount(order.total),
    expires: new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: order.timezone }).format(order.expires),
  };
  return { order, base, locale, amount, eventLocale: order.eventLocale };
}

export async function loadMailContext(tx: EntityManager, event: RelayedEvent, ctx: JobsContext): Promise<MailContext | null> {
  if (!event.orderId) return null;
  const mail = await loadOrderMail(tx, event.orderId, ctx);
  if (!mail) ctx.logger.warn('email skipped: order not found', { eventId: event.id, orderId: event.orderId });
  return mail;
}

/** The order's page in the control panel (organizer mails link there). */
export function controlUrlOf(mail: MailContext, ctx: JobsContext): string {
  return controlOrderUrl(ctx.config.publicUrl, { organizerSlug: mail.order.organizerSlug, eventSlug: mail.order.eventSlug, code: mail.order.code });
}

export async function paymentAmount(tx: EntityManager, e: RelayedEvent, m: MailContext): Promise<string> {
  const paymentId = str(e.payload.paymentId);
  if (paymentId) {
    const payment = await loadPaymentAmount(tx, paymentId, m.order.id);
    if (payment) return m.amount(payment.amount, payment.currency);
  }
  return amountFromPayload(e, m);
}

export async function loadRefund(tx: EntityManager, e: RelayedEvent): Promise<{ amount: string; currency: string; comment: string; provider: string } | null> {
  const refundId = str(e.payload.refundId);
  if (!refundId || !e.orderId) return null;
  return loadRefundForMail(tx, refundId, e.orderId);
}

/** `payload[key]` (default `amount`) in the payload's currency; the order total when the payload has none. */
export function amountFromPayload(e: RelayedEvent, m: MailContext, key = 'amount'): string {
  const amount = e.payload[key];
  const currency = str(e.payload.currency);
  return typeof amount === 'number' && Number.isSafeInteger(amount) ? m.amount(amount, currency ?? undefined) : m.base.total as string;
}

/** A positive safe integer from the payload, else 0. */
export function minorFromPayload(e: RelayedEvent, key: string): number {
  const v = e.payload[key];
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Whether an order status an event carries (a string in its payload) belongs to the order machine's set. */
export function orderStatusIn(set: OrderSet, value: unknown): boolean {
  return typeof value === 'string' && (orderStates as readonly string[]).includes(value) && orderMachine.is(set, value as OrderStatus);
}
