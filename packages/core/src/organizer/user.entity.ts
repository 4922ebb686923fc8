import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A control-panel login. The password is stored only as an scrypt/argon2id hash string. */
@Entity('app_user')
export class User {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', unique: true }) email!: string;
  @Column({ type: 'text', name: 'password_hash' }) passwordHash!: string;
  @Column({ type: 'text', default: '' }) name!: string;
  @Column({ type: 'boolean', name: 'is_active', default: true }) isActive!: boolean;
  /** Instance operator: sees instance-wide jobs; set from the command line only (`pnpm operator`). */
  @Column({ type: 'boolean', name: 'is_operator', default: false }) isOperator!: boolean;
  /** The organizer the user last worked in: a login opens it again (unless they left it). */
  @Column({ type: 'uuid', name: 'last_organizer_id', nullable: true }) lastOrganizerId!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}
