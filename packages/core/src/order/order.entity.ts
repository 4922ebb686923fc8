import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { minorUnits } from '../db/column-types';
import type { OrderStatus } from './order.machine';

@Entity('kassa_order')
@Index(['eventId', 'code'], { unique: true })
export class Order {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'organizer_id' }) organizerId!: string;
  @Column({ type: 'uuid', name: 'event_id' }) eventId!: string;
  /** Short human code, unique per event (e.g. "K7XQ2"). */
  @Column({ type: 'text' }) code!: string;
  /** Unguessable token for the buyer's order link (24 random bytes; not indexed: orders are found by event and code). */
  @Column({ type: 'text' }) secret!: string;
  @Column({ type: 'text', nullable: true }) email!: string | null;
  @Column({ type: 'text', default: 'en' }) locale!: string;
  /** Gross total including fees, minor units of `currency`. */
  @Column({ type: 'bigint', transformer: minorUnits }) total!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'text' }) status!: OrderStatus;
  @Column({ type: 'timestamptz' }) expires!: Date;
  @Column({ type: 'boolean', default: false }) testmode!: boolean;
  /**
   * The buyer's country (ISO 3166-1 alpha-2), asked only when a payment method of the event is
   * restricted by country (migration 1765600000000); null when never asked.
   */
  @Column({ type: 'char', length: 2, nullable: true }) country!: string | null;
  /** The caller's idempotency key (unique per event; migration 1764100000000), e.g. the shop's confirm-form token. */
  @Column({ type: 'text', name: 'idempotency_key', nullable: true }) idempotencyKey!: string | null;
  @Column({ type: 'timestamptz', name: 'cancellation_date', nullable: true }) cancellationDate!: Date | null;
  /** Set when personal data was removed (shred). */
  @Column({ type: 'timestamptz', name: 'shredded_at', nullable: true }) shreddedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}
