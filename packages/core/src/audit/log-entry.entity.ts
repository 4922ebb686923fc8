import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const actorTypes = ['system', 'user', 'api_token', 'buyer', 'provider'] as const;
export type ActorType = (typeof actorTypes)[number];

/** The audit log: written in the same transaction as every state change. */
@Entity('log_entry')
@Index(['orderId', 'id'])
export class LogEntry {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'uuid', name: 'organizer_id', nullable: true }) organizerId!: string | null;
  @Column({ type: 'uuid', name: 'event_id', nullable: true }) eventId!: string | null;
  @Column({ type: 'uuid', name: 'order_id', nullable: true }) orderId!: string | null;
  @Column({ type: 'text', name: 'object_type' }) objectType!: string;
  @Column({ type: 'text', name: 'object_id' }) objectId!: string;
  /** pretix-style action name, e.g. "kassa.order.payment.confirmed". */
  @Column({ type: 'text' }) action!: string;
  @Column({ type: 'text', name: 'actor_type' }) actorType!: ActorType;
  @Column({ type: 'text', name: 'actor_id', nullable: true }) actorId!: string | null;
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" }) data!: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}
