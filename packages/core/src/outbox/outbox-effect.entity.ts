import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row per (handler, outbox event) whose effect has committed. Handlers insert it in the same
 * transaction as their effect, so a redelivered event finds it and does nothing twice.
 */
@Entity('outbox_effect')
export class OutboxEffect {
  @PrimaryColumn({ type: 'text' }) handler!: string;
  @PrimaryColumn({ type: 'bigint', name: 'event_id' }) eventId!: string;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}
