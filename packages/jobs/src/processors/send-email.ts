import type { Job } from 'bullmq';
import type { JobsContext } from '../context';
import type { Mailer } from '../emails/mailer';
import { describeError, PermanentJobError } from '../job-errors';
import type { SendEmailPayload } from '../queues';

/**
 * Sends one stored email over SMTP and marks it sent. A crash after the SMTP server accepted it
 * and before the mark sends it again, with the same Message-ID: SMTP gives no better than
 * at-least-once, and the stable id lets mail clients fold the copy.
 */
export function sendEmailProcessor(ctx: JobsContext, mailer: Mailer) {
  return async (job: Job<SendEmailPayload>): Promise<{ sent: boolean }> => {
    const rows: { recipient: string; subject: string; body_text: string; body_html: string; message_id: string; sent_at: Date | null }[] =
      await ctx.dataSource.query(
        `SELECT recipient, subject, body_text, body_html, message_id, sent_at FROM email_message WHERE id = $1`,
        [job.data.emailId],
      );
    const email = rows[0];
    if (!email) throw new PermanentJobError(`email ${job.data.emailId} does not exist`);
    if (email.sent_at) return { sent: false };
    try {
      await mailer.send({ to: email.recipient, subject: email.subject, text: email.body_text, html: email.body_html, messageId: email.message_id });
    } catch (err) {
      await ctx.dataSource.query(`UPDATE email_message SET last_error = $2 WHERE id = $1`, [job.data.emailId, describeError(err)]);
      throw err;
    }
    await ctx.dataSource.query(
      `UPDATE email_message SET sent_at = $2, last_error = NULL WHERE id = $1 AND sent_at IS NULL`,
      [job.data.emailId, ctx.clock.now()],
    );
    return { sent: true };
  };
}
