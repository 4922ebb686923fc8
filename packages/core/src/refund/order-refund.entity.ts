import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { minorUnits } from '../db/column-types';
import type { RefundSource, RefundState } from './refund.machine';

/** One refund attempt. `localId` counts per order from 1; its full id is "{CODE}-R-{localId}". */
@Entity('order_refund')
@Index(['orderId', 'localId'], { unique: true })
export class OrderRefund {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'order_id' }) orderId!: string;
  @Column({ type: 'integer', name: 'local_id' }) localId!: number;
  @Column({ type: 'text' }) state!: RefundState;
  @Column({ type: 'text' }) source!: RefundSource;
  @Column({ type: 'bigint', transformer: minorUnits }) amount!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'text' }) provider!: string;
  @Column({ type: 'uuid', name: 'payment_id', nullable: true }) paymentId!: string | null;
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" }) info!: Record<string, unknown>;
  /** Reason, may be shown to the buyer. */
  @Column({ type: 'text', default: '' }) comment!: string;
  /**
   * The provider's own id for this refund (e.g. Stripe's re_…). Unique per provider so that an
   * external refund reported twice (webhook + sync) is booked once.
   */
  @Column({ type: 'text', name: 'external_id', nullable: true }) externalId!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'execution_date', nullable: true }) executionDate!: Date | null;
}
