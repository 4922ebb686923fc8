import { orderMachine, type EntityManager } from '@kassa/core/host';
import type { JobsContext } from '../context';
import type { EventHandler, RelayedEvent } from '../outbox/event-handler';
import { actionRequiredHandler } from './action-required-email';
import type { EmailTemplateName } from './email-templates';
import { amountFromPayload, loadMailContext, loadRefund, minorFromPayload, orderStatusIn, paymentAmount, str, type MailContext } from './mail-context';
import { organizerNotificationHandlers } from './organizer-notifications';
import { pendingPaymentMailText } from './payment-mail-text';

export { loadOrderMail } from './mail-context';

/** What one topic sends: the template, and the extra values the template needs (null: send nothing). */
interface BuyerEmailSpec {
  topic: string;
  template: EmailTemplateName;
  /** What to read before the email's transaction (a provider's text); passed to `model`. */
  prepare?(event: RelayedEvent, ctx: JobsContext): Promise<unknown>;
  model(tx: EntityManager, event: RelayedEvent, mail: MailContext, ctx: JobsContext, prepared: unknown): Promise<Record<string, string | boolean | null> | null>;
}

const buyerEmails: BuyerEmailSpec[] = [
  {
    topic: 'order.placed', template: 'order-placed',
    // The open payment's provider may add its instructions (bank transfer: account, amount, reference).
    prepare: (e, ctx) => pendingPaymentMailText(e, ctx),
    model: async (_tx, _e, m, _ctx, paymentText) => {
      const pending = orderMachine.is('awaitingPayment', m.order.status);
      return { pending, paymentText: pending && typeof paymentText === 'string' ? paymentText : null };
    },
  },
  {
    topic: 'payment.failed', template: 'payment-failed',
    model: async (tx, e, m) => {
      // pretix's fail(): not for an attempt abandoned before it failed (canceled with its order),
      // nor once the order no longer waits for money (paid, canceled, expired), whether it did so
      // when the payment failed (notifyBuyer, decided by core) or does by now.
      if (e.payload.notifyBuyer === false || !orderMachine.is('awaitingPayment', m.order.status)) return null;
      return {
        amount: await paymentAmount(tx, e, m),
        reason: str(e.payload.reason) ?? str(e.payload.message) ?? null,
      };
    },
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
  {
    // pretix's "order canceled" email. What is owed back was computed with the cancellation
    // (refundAmount); the refunds themselves follow, each with its own refund-done email.
    topic: 'order.canceled', template: 'order-canceled',
    model: async (_tx, e, m) => {
      if (e.payload.notifyBuyer === false) return null; // canceled as "refunded" after an external refund, as pretix
      const fee = minorFromPayload(e, 'cancellationFee');
      const refund = minorFromPayload(e, 'refundAmount');
      return {
        cancellationFee: fee > 0 ? m.amount(fee) : null,
        // A fee the payments do not cover leaves the order pending: the buyer still owes it.
        feeDue: fee > 0 && orderStatusIn('awaitingPayment', e.payload.to),
        refundAmount: refund > 0 ? m.amount(refund) : null,
        autoRefund: e.payload.autoRefund === true,
      };
    },
  },
];

/**
 * The outbox handlers that write emails: one per buyer topic, the delayed "please complete your
 * payment" (action-required-email.ts), and the organizer notifications
 * (organizer-notifications.ts). Each writes its email in `apply` (once, thanks to the effects
 * ledger) and queues SMTP sending in `afterCommit`.
 */
export function emailHandlers(): EventHandler[] {
  const handlers: EventHandler[] = buyerEmails.map((spec) => ({
    name: `email.${spec.template}`,
    topics: [spec.topic],
    ...(spec.prepare ? { prepare: spec.prepare } : {}),
    async apply(tx, event, ctx, prepared) {
      const mail = await loadMailContext(tx, event, ctx);
      if (!mail?.order.email) return; // no address (e.g. a box-office order): nothing to send
      const extra = await spec.model(tx, event, mail, ctx, prepared);
      if (!extra) return;
      const rendered = ctx.emails.renderer.render(spec.template, mail.locale, { ...mail.base, ...extra });
      await ctx.emails.write(tx, {
        dedupKey: `${spec.template}:${event.id}:${mail.order.email}`,
        organizerId: mail.order.organizerId, orderId: mail.order.id, causeEventId: event.id,
        template: spec.template, to: mail.order.email, rendered,
      });
    },
    afterCommit: (event, ctx) => ctx.emails.dispatchForEvent(event.id),
  }));
  return [...handlers, actionRequiredHandler(), ...organizerNotificationHandlers()];
}
