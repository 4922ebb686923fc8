import { orderMachine, ordersDueForReminder, unsentSmtpEmailsBefore } from '@kassa/core/host';
import type { JobsContext } from '../context';
import { loadOrderMail } from '../emails/email-handlers';

/** Reminders go out this long before a pending order expires… */
export const reminderLeadMs = 2 * 24 * 3600 * 1000;
/** …but not to orders placed less than this long ago (they just got the order email). */
export const reminderMinAgeMs = 24 * 3600 * 1000;
const batch = 200;
/** The reminder's dedup key is this plus the order id: one reminder per order. */
const reminderKeyPrefix = 'payment-reminder:';

/**
 * Hourly: one reminder per unpaid order that expires within {@link reminderLeadMs}. The email's
 * dedup key ("payment-reminder:<order id>") is what makes it one, across runs and processes.
 */
export function sendPaymentRemindersProcessor(ctx: JobsContext) {
  return async (): Promise<{ reminded: number }> => {
    const now = ctx.clock.now();
    const due = await ordersDueForReminder(ctx.dataSource, {
      now, expiringBy: new Date(now.getTime() + reminderLeadMs), placedBefore: new Date(now.getTime() - reminderMinAgeMs),
      dedupKeyPrefix: reminderKeyPrefix, limit: batch,
    });
    const written: string[] = [];
    for (const id of due) {
      const emailId = await ctx.dataSource.transaction(async (tx) => {
        const mail = await loadOrderMail(tx, id, ctx);
        // Re-checked here: the order may have been paid since the query above.
        if (!mail?.order.email || !orderMachine.is('awaitingPayment', mail.order.status)) return null;
        const rendered = ctx.emails.renderer.render('payment-reminder', mail.locale, mail.base);
        return ctx.emails.write(tx, {
          dedupKey: `${reminderKeyPrefix}${id}`, organizerId: mail.order.organizerId, orderId: id, causeEventId: null,
          template: 'payment-reminder', to: mail.order.email, rendered,
        });
      });
      if (emailId) written.push(emailId);
    }
    // Also picks up emails whose queueing was lost (a crash between commit and enqueue); ids of
    // jobs still known to BullMQ are folded, so this never sends twice what is queued or failed.
    const stranded = await unsentSmtpEmailsBefore(ctx.dataSource, new Date(now.getTime() - 5 * 60_000), batch);
    await ctx.emails.dispatch([...written, ...stranded]);
    return { reminded: written.length };
  };
}
