import { Column, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const settingScopes = ['global', 'organizer', 'event'] as const;
export type SettingScope = (typeof settingScopes)[number];

/**
 * One settings value at one level of the hierarchy (global → organizer → event), namespaced per
 * provider or plugin. Secrets are stored encrypted (AES-256-GCM envelope in `value`).
 */
@Entity('setting')
@Index(['scope', 'scopeId', 'namespace', 'key'], { unique: true })
export class Setting {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) scope!: SettingScope;
  /** Organizer or event id; '' for global. */
  @Column({ type: 'text', name: 'scope_id', default: '' }) scopeId!: string;
  @Column({ type: 'text' }) namespace!: string;
  @Column({ type: 'text' }) key!: string;
  @Column({ type: 'jsonb' }) value!: unknown;
  @Column({ type: 'boolean', default: false }) encrypted!: boolean;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}
