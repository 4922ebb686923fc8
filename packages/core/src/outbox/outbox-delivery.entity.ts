import { Column, Entity, PrimaryColumn } from 'typeorm';

export const outboxDeliveryStates = ['done', 'failed'] as const;
export type OutboxDeliveryState = (typeof outboxDeliveryStates)[number];

/**
 * The end of an outbox event's handling: every handler done, or given up after the configured
 * attempts. A later event of the same order waits until its predecessors have one.
 */
@Entity('outbox_delivery')
export class OutboxDelivery {
  @PrimaryColumn({ type: 'bigint', name: 'event_id' }) eventId!: string;
  @Column({ type: 'uuid', name: 'order_id', nullable: true }) orderId!: string | null;
  @Column({ type: 'text' }) state!: OutboxDeliveryState;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ type: 'timestamptz', name: 'finished_at' }) finishedAt!: Date;
}
