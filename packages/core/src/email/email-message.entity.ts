import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const emailTransports = ['smtp', 'stored'] as const;
export type EmailTransport = (typeof emailTransports)[number];

/**
 * An email Kassa wrote. With SMTP configured it is sent and `sent_at` is set; in the embedded
 * default (`stored`) it is only kept here, to be read in the control panel.
 */
@Entity('email_message')
@Index('email_message_organizer_created', ['organizerId', 'createdAt'])
export class EmailMessage {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** What this email is for, e.g. "order-paid:<outbox event id>": one email per cause. */
  @Column({ type: 'text', name: 'dedup_key', unique: true }) dedupKey!: string;
  @Column({ type: 'uuid', name: 'organizer_id', nullable: true }) organizerId!: string | null;
  @Column({ type: 'uuid', name: 'order_id', nullable: true }) orderId!: string | null;
  /** The outbox event this email answers, if any (reminders have none). */
  @Column({ type: 'bigint', name: 'cause_event_id', nullable: true }) causeEventId!: string | null;
  @Column({ type: 'text' }) template!: string;
  @Column({ type: 'text' }) locale!: string;
  @Column({ type: 'text' }) recipient!: string;
  @Column({ type: 'text' }) subject!: string;
  @Column({ type: 'text', name: 'body_text' }) bodyText!: string;
  @Column({ type: 'text', name: 'body_html' }) bodyHtml!: string;
  /** Stable Message-ID: a resend after a crash carries the same id, so mail clients can fold it. */
  @Column({ type: 'text', name: 'message_id', unique: true }) messageId!: string;
  @Column({ type: 'text' }) transport!: EmailTransport;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'sent_at', nullable: true }) sentAt!: Date | null;
  @Column({ type: 'text', name: 'last_error', nullable: true }) lastError!: string | null;
}
