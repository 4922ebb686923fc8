import { EmailMessage, type DataSource } from '@kassa/core/host';

export interface StoredEmailQuery {
  organizerId?: string;
  orderId?: string;
  /** Newest first; default 50, at most 500. */
  limit?: number;
  offset?: number;
}

export type StoredEmailSummary = Pick<EmailMessage,
  'id' | 'organizerId' | 'orderId' | 'template' | 'locale' | 'recipient' | 'subject' | 'transport' | 'createdAt' | 'sentAt' | 'lastError'>;

/** Emails for the control panel's list, newest first (bodies left out; see {@link getStoredEmail}). */
export async function listStoredEmails(ds: DataSource, q: StoredEmailQuery = {}): Promise<StoredEmailSummary[]> {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  return ds.getRepository(EmailMessage).find({
    select: { id: true, organizerId: true, orderId: true, template: true, locale: true, recipient: true, subject: true, transport: true, createdAt: true, sentAt: true, lastError: true },
    where: { ...(q.organizerId ? { organizerId: q.organizerId } : {}), ...(q.orderId ? { orderId: q.orderId } : {}) },
    order: { createdAt: 'DESC', id: 'DESC' },
    take: limit,
    skip: q.offset ?? 0,
  });
}

/**
 * One email with its bodies, or null. Pass the organizer to scope the read to the organizer
 * the control-panel user works for.
 */
export async function getStoredEmail(ds: DataSource, id: string, organizerId?: string): Promise<EmailMessage | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  return ds.getRepository(EmailMessage).findOne({ where: { id, ...(organizerId ? { organizerId } : {}) } });
}
