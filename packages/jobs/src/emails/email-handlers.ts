import { formatMoney, money, type EntityManager } from '@kassa/core';
import type { JobsContext } from '../context';
import type { EventHandler, RelayedEvent } from '../outbox/event-handler';
import { emailLocale, type EmailTemplateName, type EmailViewModel } from './email-templates';
import { controlOrderUrl, orderUrl } from './links';

interface OrderMailRow {
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

interface MailContext {
  order: OrderMailRow;
  base: EmailViewModel;
  locale: string;
  amount(minor: number | string, currency?: string): string;
}

/** What one topic sends: the template, and the extra values the template needs. */
interface BuyerEmailSpec {
  topic: string;
  template: EmailTemplateName;
  model(tx: EntityManager, event: RelayedEvent, mail: MailContext, ctx: JobsContext): Promise<Record<string, string | boolean | null>>;
}

const buyerEmails: BuyerEmailSpec[] = [
  {
    topic: 'order.placed', template: 'order-placed',
    model: async (_tx, _e, m) => ({ pending: m.order.status === 'pending' }),
  },
  {
    topic: 'payment.failed', template: 'payment-failed',
    model: async (tx, e, m) => ({
      amount: await paymentAmount(tx, e, m),
      reason: str(e.payload.reason) ?? str(e.payload.message) ?? null,
    }),
  },
  {
    topic: 'payment.action_required', template: 'payment-action-required',
    model: async (tx, e, m) => ({
      amount: await paymentAmount(tx, e, m),
      // The provider's page where the buyer completes the step (3-D Secure, bank app); when the
      // event does not carry one, the order page, which offers to continue the payment.
      actionUrl: str(e.payload.actionUrl) ?? str(e.payload.redirectUrl) ?? m.base.orderUrl,
    }),
  },
  { topic: 'order.paid', template: 'order-paid', model: async () => ({}) },
  {
    topic: 'refund.done', template: 'refund-done',
    model: async (tx, e, m) => {
      const refund = await loadRefund(tx, e);
      return {
        amount: refund ? m.amount(refund.amount, refund.currency) : amountFromPayload(e, m),
        comment: refund?.comment || null,
      };
    },
  },
  {
    // The order change (core's order-change.ts) says what it changed in its event: the totals
    // and what is owed at that moment, not whatever the order shows when the email is written.
    topic: 'order.changed', template: 'order-changed',
    model: async (_tx, e, m) => {
      const currency = str(e.payload.currency) ?? undefined;
      const minor = (key: string) => (typeof e.payload[key] === 'number' && Number.isSafeInteger(e.payload[key]) ? e.payload[key] as number : null);
      const pending = minor('pendingSum') ?? 0;
      const previous = minor('previousTotal');
      const now = minor('total');
      return {
        previousTotal: previous === null ? null : m.amount(previous, currency),
        newTotal: now === null ? m.base.total as string : m.amount(now, currency),
        openAmount: pending > 0 ? m.amount(pending, currency) : null,
        refundAmount: pending < 0 ? m.amount(-pending, currency) : null,
      };
    },
  },
];

/**
 * The outbox handlers that write emails: one per buyer topic, and one that tells the organizer's
 * admins about an external refund waiting for their decision. Each writes its email in `apply`
 * (once, thanks to the effects ledger) and queues SMTP sending in `afterCommit`.
 */
export function emailHandlers(): EventHandler[] {
  const handlers: EventHandler[] = buyerEmails.map((spec) => ({
    name: `email.${spec.template}`,
    topics: [spec.topic],
    async apply(tx, event, ctx) {
      const mail = await loadMailContext(tx, event, ctx);
      if (!mail?.order.email) return; // no address (e.g. a box-office order): nothing to send
      const extra = await spec.model(tx, event, mail, ctx);
      const rendered = ctx.emails.renderer.render(spec.template, mail.locale, { ...mail.base, ...extra });
      await ctx.emails.write(tx, {
        dedupKey: `${spec.template}:${event.id}:${mail.order.email}`,
        organizerId: mail.order.organizer_id, orderId: mail.order.id, causeEventId: event.id,
        template: spec.template, to: mail.order.email, rendered,
      });
    },
    afterCommit: (event, ctx) => ctx.emails.dispatchForEvent(event.id),
  }));
  handlers.push({
    name: 'email.external-refund-pending',
    topics: ['refund.external'],
    async apply(tx, event, ctx) {
      const mail = await loadMailContext(tx, event, ctx);
      if (!mail) return;
      const admins: { email: string }[] = await tx.query(
        `SELECT DISTINCT u.email FROM team t
           JOIN team_member tm ON tm.team_id = t.id JOIN app_user u ON u.id = tm.user_id
          WHERE t.organizer_id = $1 AND t.is_admin AND u.is_active ORDER BY u.email`,
        [mail.order.organizer_id],
      );
      const refund = await loadRefund(tx, event);
      for (const { email } of admins) {
        // Organizer mails go out in the event's language, not the buyer's.
        const rendered = ctx.emails.renderer.render('external-refund-pending', mail.eventLocale, {
          ...mail.base,
          amount: refund ? mail.amount(refund.amount, refund.currency) : amountFromPayload(event, mail),
          provider: refund?.provider ?? str(event.payload.provider) ?? 'The payment provider',
          controlUrl: controlOrderUrl(ctx.config.publicUrl, { organizerSlug: mail.order.organizer_slug, eventSlug: mail.order.event_slug, code: mail.order.code }),
        });
        await ctx.emails.write(tx, {
          dedupKey: `external-refund-pending:${event.id}:${email}`,
          organizerId: mail.order.organizer_id, orderId: mail.order.id, causeEventId: event.id,
          template: 'external-refund-pending', to: email, rendered,
        });
      }
    },
    afterCommit: (event, ctx) => ctx.emails.dispatchForEvent(event.id),
  });
  return handlers;
}

/** The order, event and organizer an email talks about, with formatters for its locale. */
export async function loadOrderMail(tx: EntityManager, orderId: string, ctx: JobsContext): Promise<(MailContext & { eventLocale: string }) | null> {
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

async function loadMailContext(tx: EntityManager, event: RelayedEvent, ctx: JobsContext) {
  if (!event.orderId) return null;
  const mail = await loadOrderMail(tx, event.orderId, ctx);
  if (!mail) ctx.logger.warn('email skipped: order not found', { eventId: event.id, orderId: event.orderId });
  return mail;
}

async function paymentAmount(tx: EntityManager, e: RelayedEvent, m: MailContext): Promise<string> {
  const paymentId = str(e.payload.paymentId);
  if (paymentId) {
    const rows: { amount: string; currency: string }[] = await tx.query(
      `SELECT amount::text AS amount, currency FROM order_payment WHERE id = $1 AND order_id = $2`, [paymentId, m.order.id]);
    if (rows[0]) return m.amount(rows[0].amount, rows[0].currency);
  }
  return amountFromPayload(e, m);
}

async function loadRefund(tx: EntityManager, e: RelayedEvent): Promise<{ amount: string; currency: string; comment: string; provider: string } | null> {
  const refundId = str(e.payload.refundId);
  if (!refundId || !e.orderId) return null;
  const rows: { amount: string; currency: string; comment: string; provider: string }[] = await tx.query(
    `SELECT amount::text AS amount, currency, comment, provider FROM order_refund WHERE id = $1 AND order_id = $2`, [refundId, e.orderId]);
  return rows[0] ?? null;
}

function amountFromPayload(e: RelayedEvent, m: MailContext): string {
  const amount = e.payload.amount;
  const currency = str(e.payload.currency);
  return typeof amount === 'number' && Number.isSafeInteger(amount) ? m.amount(amount, currency ?? undefined) : m.base.total as string;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}
