import { Column, Entity, JoinTable, ManyToMany, PrimaryGeneratedColumn } from 'typeorm';
import { Product } from './product.entity';

/** A capacity shared by its products. `size` null means unlimited. */
@Entity('quota')
export class Quota {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'event_id' }) eventId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'integer', nullable: true }) size!: number | null;
  @ManyToMany(() => Product)
  @JoinTable({ name: 'quota_product', joinColumn: { name: 'quota_id' }, inverseJoinColumn: { name: 'product_id' } })
  products?: Product[];
}
