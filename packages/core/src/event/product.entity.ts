import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { minorUnits } from '../db/column-types';

@Entity('product')
export class Product {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'event_id' }) eventId!: string;
  @Column({ type: 'text' }) name!: string;
  /** Gross price in the event currency's minor units. */
  @Column({ type: 'bigint', transformer: minorUnits }) price!: number;
  @Column({ type: 'boolean', default: true }) active!: boolean;
  @Column({ type: 'integer', default: 0 }) position!: number;
}
