import { claimOutboxEffect, loadOutboxEvent, loadPaymentAndOrderState, orderMachine, paymentMachine, type EntityManager } from '@kassa/core/host';
import type { JobsContext } from '../context';
import type { EventHandler, RelayedEvent } from '../outbox/event-handler';
import { loadMailContext, paymentAmount, str } from './mail-context';

/** The handler name: part of the effects key, never rename it. */
export const actionRequiredHandlerName = 'email.payment-action-required';
/** The effects-ledger name of the delayed look (a second effect of the same event). */
export const actionRequiredDelayedEffect = 'email.payment-action-required.after-delay';

/**
 * "Please complete your payment". A payment that needs the buyer (3-D Secure, a bank app) is
 * usually being completed in the buyer's browser right now: the Stripe provider answers every
 * on-session attempt with requires_action and sends the buyer to its pay page. So the email waits
 * (`emails.actionRequiredDelayMs`) and goes out only if the payment still waits for the buyer
 * then ({@link writeActionRequiredIfStillNeeded}, run by the delayed maintenance job). A payment
 * started off-session (`offSession` in the event: nobody is in the browser) is emailed at once.
 */
export function actionRequiredHandler(): EventHandler {
  return {
    name: actionRequiredHandlerName,
    topics: ['payment.action_required'],
    async apply(tx, event, ctx) {
      if (event.payload.offSession === true) await writeActionRequiredEmail(tx, event, ctx, false);
    },
    async afterCommit(event, ctx) {
      if (event.payload.offSession === true) return ctx.emails.dispatchForEvent(event.id);
      // Every redelivery adds the same job id: BullMQ folds it while the job exists, and the
      // delayed effect's ledger row stops a second look after it ran.
      return ctx.emails.scheduleActionRequiredCheck(
        { eventId: event.id, organizerId: event.organizerId, orderId: event.orderId }, ctx.config.emails.actionRequiredDelayMs);
    },
  };
}

/**
 * The delayed look, once per event (effects ledger): writes the email if the payment still waits
 * for the buyer: the attempt is still in the payment machine's `executable` set (no money moved:
 * not confirmed, failed, canceled or processing) and its order still `awaitingPayment`. Returns
 * whether it wrote one.
 */
export async function writeActionRequiredIfStillNeeded(ctx: JobsContext, eventId: string): Promise<'sent' | 'not-needed' | 'done-before'> {
  const outcome = await ctx.dataSource.transaction(async (tx) => {
    const event: RelayedEvent | null = await loadOutboxEvent(tx, eventId);
    if (!event || event.topic !== 'payment.action_required') return 'not-needed' as const;
    if (!(await claimOutboxEffect(tx, actionRequiredDelayedEffect, eventId))) return 'done-before' as const;
    return (await writeActionRequiredEmail(tx, event, ctx, true)) ? 'sent' as const : 'not-needed' as const;
  });
  if (outcome === 'sent') await ctx.emails.dispatchForEvent(eventId);
  return outcome;
}

async function writeActionRequiredEmail(tx: EntityManager, event: RelayedEvent, ctx: JobsContext, onlyIfWaiting: boolean): Promise<boolean> {
  const paymentId = str(event.payload.paymentId);
  if (onlyIfWaiting) {
    if (!paymentId || !event.orderId) return false;
    // Still waiting for the buyer: no money has moved on the attempt, and its order still awaits payment.
    const states = await loadPaymentAndOrderState(tx, paymentId, event.orderId);
    if (!states || !paymentMachine.is('executable', states.paymentState) || !orderMachine.is('awaitingPayment', states.orderStatus)) return false;
  }
  const mail = await loadMailContext(tx, event, ctx);
  if (!mail?.order.email) return false;
  const rendered = ctx.emails.renderer.render('payment-action-required', mail.locale, {
    ...mail.base,
    amount: await paymentAmount(tx, event, mail),
    // The provider's page where the buyer completes the step (3-D Secure, bank app); when the
    // event does not carry one, the order page, which offers to continue the payment.
    actionUrl: str(event.payload.actionUrl) ?? str(event.payload.redirectUrl) ?? mail.base.orderUrl,
  });
  // One per payment attempt: a buyer who retried the step twice still gets one email.
  const id = await ctx.emails.write(tx, {
    dedupKey: `payment-action-required:${paymentId ?? event.id}:${mail.order.email}`,
    organizerId: mail.order.organizerId, orderId: mail.order.id, causeEventId: event.id,
    template: 'payment-action-required', to: mail.order.email, rendered,
  });
  return id !== null;
}
