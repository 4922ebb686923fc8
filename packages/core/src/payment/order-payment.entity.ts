import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { minorUnits } from '../db/column-types';
import type { PaymentState } from './payment.machine';

/** One payment attempt. `localId` counts per order from 1; its full id is "{CODE}-P-{localId}". */
@Entity('order_payment')
@Index(['orderId', 'localId'], { unique: true })
export class OrderPayment {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'order_id' }) orderId!: string;
  @Column({ type: 'integer', name: 'local_id' }) localId!: number;
  @Column({ type: 'text' }) state!: PaymentState;
  @Column({ type: 'bigint', transformer: minorUnits }) amount!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'text' }) provider!: string;
  /** Provider-specific data (intent id, card brand…); cleared of personal data by shred. */
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" }) info!: Record<string, unknown>;
  @Column({ type: 'uuid', name: 'fee_id', nullable: true }) feeId!: string | null;
  @Column({ type: 'boolean', name: 'process_initiated', default: false }) processInitiated!: boolean;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'payment_date', nullable: true }) paymentDate!: Date | null;
}
