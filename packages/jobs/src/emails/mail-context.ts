import { formatMoney, money, type EntityManager } from '@kassa/core/host';
import type { JobsContext } from '../context';
import type { RelayedEvent } from '../outbox/event-handler';
import { emailLocale, type EmailViewModel } from './email-templates';
import { controlOrderUrl, orderUrl } from './links';

export interface OrderMailRow {
  id: string;
  organizer_id: string;
  code: string;
  secret: string;
  email: string | null;
  locale: string;
  total: string;
  currency: string;
  status: string;
  expires: Date;
  event_name: string;
  event_slug: string;
  timezone: string;
  organizer_name: string;
  organizer_slug: string;
}

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
  const rows: (OrderMailRow & { event_locale: string })[] = await tx.query(
    `SELECT o.id, o.organizer_id, o.code, o.secret, o.email, o.locale, o.total::text AS total, o.currency, o.status, o.expires,
            e.name AS event_name, e.slug AS event_slug, e.timezone, e.locale AS event_locale,
            g.name AS organizer_name, g.slug AS organizer_slug
       FROM kassa_order o JOIN event e ON e.id = o.event_id JOIN organizer g ON g.id = o.organizer_id
      WHERE o.id = $1`,
    [orderId],
  );
  const order = rows[0];
  if (!order) return null;
  const locale = emailLocale(order.locale);
  const amount = (minor: number | string, currency = order.currency) => formatMoney(money(Number(minor), currency.trim()), locale);
  const base: EmailViewModel = {
    organizerName: order.organizer_name,
    eventName: order.event_name,
    orderCode: order.code,
    orderUrl: orderUrl(ctx.config.publicUrl, { organizerSlug: order.organizer_slug, eventSlug: order.event_slug, code: order.code, secret: order.secret }),
    total: amount(order.total),
    expires: new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: order.timezone }).format(order.expires),
  };
  return { order, base, locale, amount, eventLocale: order.event_locale };
}

export async function loadMailContext(tx: EntityManager, event: RelayedEvent, ctx: JobsContext): Promise<MailContext | null> {
  if (!event.orderId) return null;
  const mail = await loadOrderMail(tx, event.orderId, ctx);
  if (!mail) ctx.logger.warn('email skipped: order not found', { eventId: event.id, orderId: event.orderId });
  return mail;
}

/** The order's page in the control panel (organizer mails link there). */
export function controlUrlOf(mail: MailContext, ctx: JobsContext): string {
  return controlOrderUrl(ctx.config.publicUrl, { organizerSlug: mail.order.organizer_slug, eventSlug: mail.order.event_slug, code: mail.order.code });
}

export async function paymentAmount(tx: EntityManager, e: RelayedEvent, m: MailContext): Promise<string> {
  const paymentId = str(e.payload.paymentId);
  if (paymentId) {
    const rows: { amount: string; currency: string }[] = await tx.query(
      `SELECT amount::text AS amount, currency FROM order_payment WHERE id = $1 AND order_id = $2`, [paymentId, m.order.id]);
    if (rows[0]) return m.amount(rows[0].amount, rows[0].currency);
  }
  return amountFromPayload(e, m);
}

export async function loadRefund(tx: EntityManager, e: RelayedEvent): Promise<{ amount: string; currency: string; comment: string; provider: string } | null> {
  const refundId = str(e.payload.refundId);
  if (!refundId || !e.orderId) return null;
  const rows: { amount: string; currency: string; comment: string; provider: string }[] = await tx.query(
    `SELECT amount::text AS amount, currency, comment, provider FROM order_refund WHERE id = $1 AND order_id = $2`, [refundId, e.orderId]);
  return rows[0] ?? null;
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
