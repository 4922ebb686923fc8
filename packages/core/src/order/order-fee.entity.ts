import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { minorUnits } from '../db/column-types';

export const orderFeeTypes = ['payment', 'cancellation', 'service'] as const;
export type OrderFeeType = (typeof orderFeeTypes)[number];

@Entity('order_fee')
export class OrderFee {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'order_id' }) orderId!: string;
  @Column({ type: 'text', name: 'fee_type' }) feeType!: OrderFeeType;
  /** For payment fees: the provider identifier the fee belongs to. */
  @Column({ type: 'text', name: 'internal_type', default: '' }) internalType!: string;
  @Column({ type: 'bigint', transformer: minorUnits }) value!: number;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ type: 'boolean', default: false }) canceled!: boolean;
}
