import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import {
  Column, Entity, PrimaryGeneratedColumn, SettingsStore, definePlugin, globalSettings, loadPlugins, type MigrationInterface, type QueryRunner,
} from '../../src';

// A plugin's own table, declared with the decorators @kassa/core re-exports (one TypeORM instance).
@Entity('acme_reference')
class AcmeReference {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', name: 'external_id', unique: true }) externalId!: string;
  @Column({ type: 'uuid', name: 'payment_id' }) paymentId!: string;
}

class AcmeInit1764000000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE acme_reference (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), external_id text NOT NULL UNIQUE, payment_id uuid NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE acme_reference');
  }
}

const acme = definePlugin({
  name: 'acme', version: '1.0.0', coreRange: '^0.1.0',
  entities: [AcmeReference], migrations: [AcmeInit1764000000000],
  settingsSchema: { type: 'object', properties: { webhookTolerance: { type: 'integer', minimum: 1, default: 300 } }, additionalProperties: false },
});

describe('a plugin\'s entities, migrations and settings on PostgreSQL', () => {
  const loaded = loadPlugins([acme]);
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ entities: [...loaded.entities], migrations: [...loaded.migrations], poolSize: 2 });
  });
  afterAll(async () => { await db.destroy(); });

  it('runs the plugin migration with core\'s, through the real migration runner', async () => {
    const rows: { name: string }[] = await db.dataSource.query('SELECT name FROM kassa_migrations ORDER BY id');
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['InitialSchema1763700000000', 'AcmeInit1764000000000']));
  });

  it('reads and writes the plugin entity through the shared data source', async () => {
    const repo = db.dataSource.getRepository(AcmeReference);
    await repo.insert({ externalId: 'ch_123', paymentId: '00000000-0000-4000-8000-000000000001' });
    expect(await repo.findOneByOrFail({ externalId: 'ch_123' })).toMatchObject({ paymentId: '00000000-0000-4000-8000-000000000001' });
    await expect(repo.insert({ externalId: 'ch_123', paymentId: '00000000-0000-4000-8000-000000000002' })).rejects.toThrow(/duplicate key/);
  });

  it('stores plugin-wide settings in its own namespace, validated by its schema', async () => {
    const store = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas });
    expect(await store.resolve(globalSettings, 'plugin.acme')).toEqual({ webhookTolerance: 300 });
    await store.set(globalSettings, 'plugin.acme', { webhookTolerance: 600 });
    expect(await store.resolve(globalSettings, 'plugin.acme')).toEqual({ webhookTolerance: 600 });
    await expect(store.set(globalSettings, 'plugin.acme', { webhookTolerance: 0 })).rejects.toMatchObject({ code: 'SETTINGS_INVALID' });
  });
});
