import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A REST API token of one organizer. Only its SHA-256 hash is stored. */
@Entity('api_token')
export class ApiToken {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'organizer_id' }) organizerId!: string;
  @Column({ type: 'text' }) name!: string;
  @Index({ unique: true }) @Column({ type: 'text', name: 'token_hash' }) tokenHash!: string;
  @Column({ type: 'boolean', default: true }) active!: boolean;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'last_used_at', nullable: true }) lastUsedAt!: Date | null;
}
