import { createHash } from 'node:crypto';
import { insertEmailMessage, unsentSmtpEmailsOfEvent, type DataSource, type EntityManager, type EmailTransport } from '@kassa/core/host';
import type { ActionRequiredCheckPayload } from '../queues';
import type { EmailRenderer, EmailTemplateName, RenderedEmail } from './email-templates';

export interface EmailDraft {
  /** One email per cause, e.g. "order-paid:<event id>:<recipient>": writing it twice stores it once. */
  dedupKey: string;
  organizerId: string | null;
  orderId: string | null;
  causeEventId: string | null;
  template: EmailTemplateName;
  to: string;
  rendered: RenderedEmail;
}

/**
 * Writes emails to `email_message` inside the caller's transaction, and afterwards hands the ones
 * that must go out over SMTP to the emails queue. Without SMTP the stored row is the delivery:
 * the control panel reads it.
 */
export class EmailOutbox {
  readonly transport: EmailTransport;

  constructor(
    private readonly dataSource: DataSource,
    readonly renderer: EmailRenderer,
    smtpUrl: string | null,
    private readonly mailFrom: string,
    private readonly enqueueSend: (emailIds: string[]) => Promise<void>,
    /** Queues the delayed action-required check of one event (deterministic job id: once per event). */
    private readonly enqueueActionCheck: (check: ActionRequiredCheckPayload, delayMs: number) => Promise<void> = async () => {
      throw new Error('this email outbox cannot schedule delayed checks');
    },
  ) {
    this.transport = smtpUrl ? 'smtp' : 'stored';
  }

  /** Stores the email unless one with the same dedup key exists; returns the new id or null. */
  async write(tx: EntityManager, draft: EmailDraft): Promise<string | null> {
    return insertEmailMessage(tx, {
      dedupKey: draft.dedupKey, organizerId: draft.organizerId, orderId: draft.orderId, causeEventId: draft.causeEventId,
      template: draft.template, locale: draft.rendered.locale, recipient: draft.to, subject: draft.rendered.subject,
      bodyText: draft.rendered.text, bodyHtml: draft.rendered.html, messageId: this.messageId(draft.dedupKey), transport: this.transport,
    });
  }

  /** After commit: queues every unsent SMTP email written for this outbox event (again, harmlessly, on redelivery). */
  async dispatchForEvent(eventId: string): Promise<void> {
    if (this.transport !== 'smtp') return;
    const ids = await unsentSmtpEmailsOfEvent(this.dataSource, eventId);
    if (ids.length > 0) await this.enqueueSend(ids);
  }

  async dispatch(emailIds: string[]): Promise<void> {
    if (this.transport === 'smtp' && emailIds.length > 0) await this.enqueueSend(emailIds);
  }

  /** After commit: looks again at a payment that asked for the buyer's action once `delayMs` passed. */
  scheduleActionRequiredCheck(check: ActionRequiredCheckPayload, delayMs: number): Promise<void> {
    return this.enqueueActionCheck(check, delayMs);
  }

  /** Derived from the dedup key, so a resend after a crash carries the same Message-ID. */
  private messageId(dedupKey: string): string {
    const domain = /@([^>\s]+)/.exec(this.mailFrom)?.[1] ?? 'kassa.invalid';
    return `<${createHash('sha256').update(dedupKey).digest('hex').slice(0, 32)}@${domain}>`;
  }
}
