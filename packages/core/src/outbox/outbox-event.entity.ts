import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A domain event written in the same transaction as the change it reports, then relayed to the job
 * queue by the jobs package. `id` is a bigint sequence: relaying in id order keeps events of one
 * order in the order they happened.
 */
@Entity('outbox_event')
@Index('outbox_event_unrelayed', ['id'], { where: 'relayed_at IS NULL' })
export class OutboxEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  /** e.g. "order.paid", "payment.failed", "refund.done", "payment.action_required". */
  @Column({ type: 'text' }) topic!: string;
  @Column({ type: 'uuid', name: 'organizer_id', nullable: true }) organizerId!: string | null;
  @Column({ type: 'uuid', name: 'order_id', nullable: true }) orderId!: string | null;
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" }) payload!: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'relayed_at', nullable: true }) relayedAt!: Date | null;
}
