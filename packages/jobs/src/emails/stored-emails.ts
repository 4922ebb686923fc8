import {
  getEmailMessage, listEmailMessages, type DataSource, type EmailMessage, type EmailMessageQuery, type EmailMessageSummary,
} from '@kassa/core/host';

export type StoredEmailQuery = EmailMessageQuery;
export type StoredEmailSummary = EmailMessageSummary;

/** Emails for the control panel's list, newest first (bodies left out; see {@link getStoredEmail}). */
export function listStoredEmails(ds: DataSource, q: StoredEmailQuery = {}): Promise<StoredEmailSummary[]> {
  return listEmailMessages(ds, q);
}

/**
 * One email with its bodies, or null. Pass the organizer to scope the read to the organizer
 * the control-panel user works for.
 */
export function getStoredEmail(ds: DataSource, id: string, organizerId?: string): Promise<EmailMessage | null> {
  return getEmailMessage(ds, id, organizerId);
}
