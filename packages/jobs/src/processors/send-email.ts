import { loadOutgoingEmail, markEmailSent, recordEmailError } from '@kassa/core/host';
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
    const email = await loadOutgoingEmail(ctx.dataSource, job.data.emailId);
    if (!email) throw new PermanentJobError(`email ${job.data.emailId} does not exist`);
    if (email.sentAt) return { sent: false };
    try {
      await mailer.send({ to: email.recipient, subject: email.subject, text: email.bodyText, html: email.bodyHtml, messageId: email.messageId });
    } catch (err) {
      await recordEmailError(ctx.dataSource, job.data.emailId, describeError(err));
      throw err;
    }
    await markEmailSent(ctx.dataSource, job.data.emailId, ctx.clock.now());
    return { sent: true };
  };
}
