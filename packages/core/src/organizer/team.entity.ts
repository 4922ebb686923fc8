import { Column, CreateDateColumn, Entity, JoinColumn, JoinTable, ManyToMany, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Organizer } from './organizer.entity';
import { User } from './user.entity';

/** A team grants its members access to one organizer's events, orders and settings. */
@Entity('team')
export class Team {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'organizer_id' }) organizerId!: string;
  @ManyToOne(() => Organizer, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'organizer_id' }) organizer?: Organizer;
  @Column({ type: 'text' }) name!: string;
  /** May change settings, manage jobs and users; others may only work with orders. */
  @Column({ type: 'boolean', name: 'is_admin', default: false }) isAdmin!: boolean;
  @ManyToMany(() => User)
  @JoinTable({ name: 'team_member', joinColumn: { name: 'team_id' }, inverseJoinColumn: { name: 'user_id' } })
  members?: User[];
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}
