import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A REST API token of one organizer. Only its SHA-256 hash is stored. */
@Entity('api_token')
export class ApiToken {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'organizer_id' }) organizerId!: string;
  @Column({ type: 'text' }) name!: string;
  @Index({ unique: true }) @Column({ type: 'text', name: 'token_hash' }) tokenHash!: string;
  @Column({ type: 'boolean', default: true }) active!: boolean;
  /** The team permissions the token holds (organizer.settings, event.orders.view, …): what its API routes may do. */
  @Column({ type: 'text', array: true }) permissions!: string[];
  /** Its event permissions hold on all events; otherwise only on the events in api_token_event. */
  @Column({ type: 'boolean', name: 'all_events', default: true }) allEvents!: boolean;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'last_used_at', nullable: true }) lastUsedAt!: Date | null;
}
