import { organizerAdminEmails, type EntityManager } from '@kassa/core/host';
import type { EventHandler, RelayedEvent } from '../outbox/event-handler';
import type { EmailTemplateName } from './email-templates';
import { amountFromPayload, controlUrlOf, loadMailContext, loadRefund, orderStatusIn, str, type MailContext } from './mail-context';

/**
 * What one organizer notification says: the template, and the values it needs, or null when this
 * event needs no notification after all.
 */
interface OrganizerNotificationSpec {
  /** The handler is `email.<template>`: never rename a deployed one (it keys the effects ledger). */
  template: EmailTemplateName;
  topic: string;
  model(tx: EntityManager, event: RelayedEvent, mail: MailContext): Promise<Record<string, string | boolean | null> | null>;
}

const specs: OrganizerNotificationSpec[] = [
  {
    // pretix's "External refund of payment": a dashboard refund or a lost dispute waits for a decision.
    template: 'external-refund-pending', topic: 'refund.external',
    model: async (tx, e, m) => {
      const refund = await loadRefund(tx, e);
      return {
        amount: refund ? m.amount(refund.amount, refund.currency) : amountFromPayload(e, m),
        provider: refund?.provider ?? str(e.payload.provider) ?? 'The payment provider',
      };
    },
  },
  {
    // pretix's "Order has been overpaid". For a canceled or expired order the payment notice
    // below already says it (with the order's state), so it is not said twice.
    template: 'order-overpaid-notice', topic: 'order.overpaid',
    model: async (_tx, e, m) => {
      if (orderStatusIn('closed', e.payload.status)) return null;
      return { amount: amountFromPayload(e, m, 'owedBack') };
    },
  },
  {
    // pretix's "Refund requested": money is owed back that no provider could refund by itself.
    template: 'refund-requested-notice', topic: 'refund.requested',
    model: async (_tx, e, m) => ({ amount: amountFromPayload(e, m) }),
  },
  {
    // Money received for an order that stays canceled or expired (a late payment, quota gone).
    template: 'payment-closed-order-notice', topic: 'payment.on_closed_order',
    model: async (_tx, e, m) => ({
      amount: amountFromPayload(e, m),
      provider: str(e.payload.provider) ?? '',
      canceled: orderStatusIn('canceled', e.payload.orderStatus),
      reason: str(e.payload.reason),
    }),
  },
];

/**
 * Organizer notifications (pretix's notification types that concern money). They go to every
 * active member of the organizer's admin teams, in the event's language: Kassa has no per-user
 * notification settings, and only admins may act on them (refunds, decisions).
 */
export function organizerNotificationHandlers(): EventHandler[] {
  return specs.map((spec) => ({
    name: `email.${spec.template}`,
    topics: [spec.topic],
    async apply(tx, event, ctx) {
      const mail = await loadMailContext(tx, event, ctx);
      if (!mail) return;
      const extra = await spec.model(tx, event, mail);
      if (!extra) return;
      const model = { ...mail.base, ...extra, controlUrl: controlUrlOf(mail, ctx) };
      for (const email of await organizerAdminEmails(tx, mail.order.organizerId)) {
        await ctx.emails.write(tx, {
          dedupKey: `${spec.template}:${event.id}:${email}`,
          organizerId: mail.order.organizerId, orderId: mail.order.id, causeEventId: event.id,
          template: spec.template, to: email, rendered: ctx.emails.renderer.render(spec.template, mail.eventLocale, model),
        });
      }
    },
    afterCommit: (event, ctx) => ctx.emails.dispatchForEvent(event.id),
  }));
}
