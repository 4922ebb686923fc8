import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity('event')
@Index(['organizerId', 'slug'], { unique: true })
export class Event {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'organizer_id' }) organizerId!: string;
  @Column({ type: 'text' }) slug!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'text', default: 'UTC' }) timezone!: string;
  @Column({ type: 'text', default: 'en' }) locale!: string;
  /** Days a buyer has to pay before the order expires. */
  @Column({ type: 'integer', name: 'payment_term_days', default: 14 }) paymentTermDays!: number;
  /** Whether a payment arriving after expiry may still revive the order (quota permitting). */
  @Column({ type: 'boolean', name: 'payment_term_accept_late', default: true }) paymentTermAcceptLate!: boolean;
  /**
   * pretix's "last date of payments": no payment may start after it, a later one does not mark the
   * order paid, and payment deadlines are capped at it. Null: none.
   */
  @Column({ type: 'timestamptz', name: 'payment_term_last', nullable: true, default: null }) paymentTermLast!: Date | null;
  @Column({ type: 'boolean', default: true }) live!: boolean;
  /** Minutes the tickets in a buyer's cart are held for them (pretix's reservation time; default 30). */
  @Column({ type: 'integer', name: 'reservation_minutes', default: 30 }) reservationMinutes!: number;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}
