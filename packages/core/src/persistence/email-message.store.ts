import type { DataSource, EntityManager } from 'typeorm';
import { EmailMessage, type EmailTransport } from '../email/email-message.entity';

type Db = Pick<EntityManager, 'query'>;

/** An email to store; `dedupKey` names its cause, so writing it twice stores it once. */
export interface NewEmailMessage {
  readonly dedupKey: string;
  readonly organizerId: string | null;
  readonly orderId: string | null;
  readonly causeEventId: string | null;
  readonly template: string;
  readonly locale: string;
  readonly recipient: string;
  readonly subject: string;
  readonly bodyText: string;
  readonly bodyHtml: string;
  readonly messageId: string;
  readonly transport: EmailTransport;
}

/** Stores the email unless one with the same dedup key exists (in the caller's transaction); returns the new id or null. */
export async function insertEmailMessage(tx: Db, m: NewEmailMessage): Promise<string | null> {
  const rows: { id: string }[] = await tx.query(
    `INSERT INTO email_message
       (dedup_key, organizer_id, order_id, cause_event_id, template, locale, recipient, subject, body_text, body_html, message_id, transport)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
    [m.dedupKey, m.organizerId, m.orderId, m.causeEventId, m.template, m.locale, m.recipient, m.subject, m.bodyText, m.bodyHtml, m.messageId, m.transport],
  );
  return rows[0]?.id ?? null;
}

/** The unsent SMTP emails written for one outbox event, oldest first. */
export async function unsentSmtpEmailsOfEvent(db: Db, eventId: string): Promise<string[]> {
  const rows: { id: string }[] = await db.query(
    `SELECT id FROM email_message WHERE cause_event_id = $1 AND transport = 'smtp' AND sent_at IS NULL ORDER BY created_at, id`,
    [eventId],
  );
  return rows.map((r) => r.id);
}

/** Unsent SMTP emails written before `before`, oldest first: their queueing may have been lost. */
export async function unsentSmtpEmailsBefore(db: Db, before: Date, limit: number): Promise<string[]> {
  const rows: { id: string }[] = await db.query(
    `SELECT id FROM email_message WHERE transport = 'smtp' AND sent_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2`,
    [before, limit],
  );
  return rows.map((r) => r.id);
}

/** What the sender needs of one email; null when it does not exist. */
export interface OutgoingEmailRow {
  readonly recipient: string;
  readonly subject: string;
  readonly bodyText: string;
  readonly bodyHtml: string;
  readonly messageId: string;
  readonly sentAt: Date | null;
}

export async function loadOutgoingEmail(db: Db, id: string): Promise<OutgoingEmailRow | null> {
  const rows: { recipient: string; subject: string; body_text: string; body_html: string; message_id: string; sent_at: Date | null }[] = await db.query(
    `SELECT recipient, subject, body_text, body_html, message_id, sent_at FROM email_message WHERE id = $1`, [id]);
  const r = rows[0];
  return r ? { recipient: r.recipient, subject: r.subject, bodyText: r.body_text, bodyHtml: r.body_html, messageId: r.message_id, sentAt: r.sent_at } : null;
}

/** Marks the email sent (once: a second mark keeps the first time) and clears its last error. */
export async function markEmailSent(db: Db, id: string, at: Date): Promise<void> {
  await db.query(`UPDATE email_message SET sent_at = $2, last_error = NULL WHERE id = $1 AND sent_at IS NULL`, [id, at]);
}

/** Keeps the last sending error for the control panel. */
export async function recordEmailError(db: Db, id: string, error: string): Promise<void> {
  await db.query(`UPDATE email_message SET last_error = $2 WHERE id = $1`, [id, error]);
}

export interface EmailMessageQuery {
  organizerId?: string;
  orderId?: string;
  /** Newest first; default 50, at most 500. */
  limit?: number;
  offset?: number;
}

export type EmailMessageSummary = Pick<EmailMessage,
  'id' | 'organizerId' | 'orderId' | 'template' | 'locale' | 'recipient' | 'subject' | 'transport' | 'createdAt' | 'sentAt' | 'lastError'>;

/** Stored emails for the control panel's list, newest first, without their bodies. */
export async function listEmailMessages(ds: DataSource, q: EmailMessageQuery = {}): Promise<EmailMessageSummary[]> {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  return ds.getRepository(EmailMessage).find({
    select: { id: true, organizerId: true, orderId: true, template: true, locale: true, recipient: true, subject: true, transport: true, createdAt: true, sentAt: true, lastError: true },
    where: { ...(q.organizerId ? { organizerId: q.organizerId } : {}), ...(q.orderId ? { orderId: q.orderId } : {}) },
    order: { createdAt: 'DESC', id: 'DESC' },
    take: limit,
    skip: q.offset ?? 0,
  });
}

/** One email with its bodies, or null; with `organizerId`, only that organizer's. */
export async function getEmailMessage(ds: DataSource, id: string, organizerId?: string): Promise<EmailMessage | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  return ds.getRepository(EmailMessage).findOne({ where: { id, ...(organizerId ? { organizerId } : {}) } });
}
