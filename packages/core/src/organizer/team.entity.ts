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
  /** Every permission on all events, whatever the flags below say (teams made before permissions existed, tests). */
  @Column({ type: 'boolean', name: 'is_admin', default: false }) isAdmin!: boolean;
  /** The event-level permissions hold for every event of the organizer; false: only for the team's events (team_event). */
  @Column({ type: 'boolean', name: 'all_events', default: true }) allEvents!: boolean;
  @Column({ type: 'boolean', name: 'can_change_teams', default: false }) canChangeTeams!: boolean;
  @Column({ type: 'boolean', name: 'can_change_organizer_settings', default: false }) canChangeOrganizerSettings!: boolean;
  @Column({ type: 'boolean', name: 'can_create_events', default: false }) canCreateEvents!: boolean;
  @Column({ type: 'boolean', name: 'can_change_event_settings', default: false }) canChangeEventSettings!: boolean;
  @Column({ type: 'boolean', name: 'can_view_orders', default: false }) canViewOrders!: boolean;
  @Column({ type: 'boolean', name: 'can_change_orders', default: false }) canChangeOrders!: boolean;
  @ManyToMany(() => User)
  @JoinTable({ name: 'team_member', joinColumn: { name: 'team_id' }, inverseJoinColumn: { name: 'user_id' } })
  members?: User[];
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}
