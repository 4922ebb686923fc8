import type { JobsContext } from '../context';
import { loadOrderMail } from '../emails/email-handlers';

/** Reminders go out this long before a pending order expires… */
export const reminderLeadMs = 2 * 24 * 3600 * 1000;
/** …but not to orders placed less than this long ago (they just got the order email). */
export const reminderMinAgeMs = 24 * 3600 * 1000;
const batch = 200;

/**
 * Hourly: one reminder per unpaid order that expires within {@link reminderLeadMs}. The email's
 * dedup key ("payment-reminder:<order id>") is what makes it one, across runs and processes.
 */
export function sendPaymentRemindersProcessor(ctx: JobsContext) {
  return async (): Promise<{ reminded: number }> => {
    const now = ctx.clock.now();
    const due: { id: string }[] = await ctx.dataSource.query(
      `SELECT o.id FROM kassa_order o
        WHERE o.status = 'pending' AND o.email IS NOT NULL
          AND o.expires > $1 AND o.expires <= $2 AND o.created_at <= $3
          AND NOT EXISTS (SELECT 1 FROM email_message m WHERE m.dedup_key = 'payment-reminder:' || o.id::text)
        ORDER BY o.expires LIMIT $4`,
      [now, new Date(now.getTime() + reminderLeadMs), new Date(now.getTime() - reminderMinAgeMs), batch],
    );
    const written: string[] = [];
    for (const { id } of due) {
      const emailId = await ctx.dataSource.transaction(async (tx) => {
        const mail = await loadOrderMail(tx, id, ctx);
        // Re-checked here: the order may have been paid since the query above.
        if (!mail?.order.email || mail.order.status !== 'pending') return null;
        const rendered = ctx.emails.renderer.render('payment-reminder', mail.locale, mail.base);
        return ctx.emails.write(tx, {
          dedupKey: `payment-reminder:${id}`, organizerId: mail.order.organizer_id, orderId: id, causeEventId: null,
          template: 'payment-reminder', to: mail.order.email, rendered,
        });
      });
      if (emailId) written.push(emailId);
    }
    // Also picks up emails whose queueing was lost (a crash between commit and enqueue); ids of
    // jobs still known to BullMQ are folded, so this never sends twice what is queued or failed.
    const stranded: { id: string }[] = await ctx.dataSource.query(
      `SELECT id FROM email_message WHERE transport = 'smtp' AND sent_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2`,
      [new Date(now.getTime() - 5 * 60_000), batch],
    );
    await ctx.emails.dispatch([...written, ...stranded.map((r) => r.id)]);
    return { reminded: written.length };
  };
}
