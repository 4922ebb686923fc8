import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { minorUnits } from '../db/column-types';

@Entity('order_position')
export class OrderPosition {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'order_id' }) orderId!: string;
  @Column({ type: 'uuid', name: 'product_id' }) productId!: string;
  @Column({ type: 'integer', name: 'position_no' }) positionNo!: number;
  @Column({ type: 'bigint', transformer: minorUnits }) price!: number;
  @Column({ type: 'text', name: 'attendee_name', nullable: true }) attendeeName!: string | null;
  @Column({ type: 'boolean', default: false }) canceled!: boolean;
}
