import { createHash } from 'node:crypto';
import type { DataSource, EntityManager, EmailTransport } from '@kassa/core/host';
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
    const rows: { id: string }[] = await tx.query(
      `INSERT INTO email_message
         (dedup_key, organizer_id, order_id, cause_event_id, template, locale, recipient, subject, body_text, body_html, message_id, transport)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
      [
        draft.dedupKey, draft.organizerId, draft.orderId, draft.causeEventId, draft.template, draft.rendered.locale,
        draft.to, draft.rendered.subject, draft.rendered.text, draft.rendered.html, this.messageId(draft.dedupKey), this.transport,
      ],
    );
    return rows[0]?.id ?? null;
  }

  /** After commit: queues every unsent SMTP email written for this outbox event (again, harmlessly, on redelivery). */
  async dispatchForEvent(eventId: string): Promise<void> {
    if (this.transport !== 'smtp') return;
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM email_message WHERE cause_event_id = $1 AND transport = 'smtp' AND sent_at IS NULL ORDER BY created_at, id`,
      [eventId],
    );
    if (rows.length > 0) await this.enqueueSend(rows.map((r) => r.id));
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
