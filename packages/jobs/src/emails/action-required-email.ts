import type { EntityManager } from '@kassa/core/host';
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
 * for the buyer: the attempt is still `created` (not confirmed, failed, canceled or processing)
 * and its order still pending. Returns whether it wrote one.
 */
export async function writeActionRequiredIfStillNeeded(ctx: JobsContext, eventId: string): Promise<'sent' | 'not-needed' | 'done-before'> {
  const outcome = await ctx.dataSource.transaction(async (tx) => {
    const events: { id: string; topic: string; organizer_id: string | null; order_id: string | null; payload: Record<string, unknown>; created_at: Date }[] =
      await tx.query(`SELECT id::text AS id, topic, organizer_id, order_id, payload, created_at FROM outbox_event WHERE id = $1`, [eventId]);
    const row = events[0];
    if (!row || row.topic !== 'payment.action_required') return 'not-needed' as const;
    const claimed: unknown[] = await tx.query(
      `INSERT INTO outbox_effect (handler, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
      [actionRequiredDelayedEffect, eventId],
    );
    if (claimed.length === 0) return 'done-before' as const;
    const event: RelayedEvent = { id: row.id, topic: row.topic, organizerId: row.organizer_id, orderId: row.order_id, payload: row.payload, createdAt: row.created_at };
    return (await writeActionRequiredEmail(tx, event, ctx, true)) ? 'sent' as const : 'not-needed' as const;
  });
  if (outcome === 'sent') await ctx.emails.dispatchForEvent(eventId);
  return outcome;
}

async function writeActionRequiredEmail(tx: EntityManager, event: RelayedEvent, ctx: JobsContext, onlyIfWaiting: boolean): Promise<boolean> {
  const paymentId = str(event.payload.paymentId);
  if (onlyIfWaiting) {
    if (!paymentId || !event.orderId) return false;
    const rows: { state: string; status: string }[] = await tx.query(
      `SELECT p.state, o.status FROM order_payment p JOIN kassa_order o ON o.id = p.order_id WHERE p.id = $1 AND o.id = $2`,
      [paymentId, event.orderId],
    );
    if (rows[0]?.state !== 'created' || rows[0].status !== 'pending') return false;
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
    organizerId: mail.order.organizer_id, orderId: mail.order.id, causeEventId: event.id,
    template: 'payment-action-required', to: mail.order.email, rendered,
  });
  return id !== null;
}
