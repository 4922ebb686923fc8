import { createTestDatabase, type TestDatabase } from '@kassa/testing';
import { SettingsStore, createPluginDb, defineMigration, definePlugin, globalSettings, loadPlugins } from '../../src/host';

// A plugin's own table: a plain migration, no ORM (the plugin reaches it through the port's db handle).
const acmeInit = defineMigration({
  name: 'AcmeInit1764000000000',
  async up(db) {
    await db.query(`CREATE TABLE acme_reference (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), external_id text NOT NULL UNIQUE, payment_id uuid NOT NULL)`);
  },
  async down(db) {
    await db.query('DROP TABLE acme_reference');
  },
});

const acme = definePlugin({
  name: 'acme', version: '1.0.0', coreRange: '^0.1.0',
  migrations: [acmeInit],
  settingsSchema: { type: 'object', properties: { webhookTolerance: { type: 'integer', minimum: 1, default: 300 } }, additionalProperties: false },
});

describe('a plugin\'s migrations, own table and settings on PostgreSQL', () => {
  const loaded = loadPlugins([acme]);
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrations: [...loaded.migrations], poolSize: 2 });
  });
  afterAll(async () => { await db.destroy(); });

  it('runs the plugin migration with core\'s, through the real migration runner', async () => {
    const rows: { name: string }[] = await db.dataSource.query('SELECT name FROM kassa_migrations ORDER BY id');
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['InitialSchema1763700000000', 'AcmeInit1764000000000']));
  });

  it('reads and writes the plugin table through the port\'s db handle', async () => {
    const pdb = createPluginDb(db.dataSource);
    const insert = (paymentId: string) => pdb.query('INSERT INTO acme_reference (external_id, payment_id) VALUES ($1, $2) RETURNING external_id', ['ch_123', paymentId]);
    expect(await insert('00000000-0000-4000-8000-000000000001')).toEqual([{ external_id: 'ch_123' }]);
    expect(await pdb.query('SELECT payment_id FROM acme_reference WHERE external_id = $1', ['ch_123'])).toEqual([{ payment_id: '00000000-0000-4000-8000-000000000001' }]);
    await expect(insert('00000000-0000-4000-8000-000000000002')).rejects.toThrow(/duplicate key/);
    // A transaction that fails leaves nothing behind.
    await expect(pdb.transaction(async (tx) => {
      await tx.query('INSERT INTO acme_reference (external_id, payment_id) VALUES ($1, $2)', ['ch_456', '00000000-0000-4000-8000-000000000003']);
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    expect(await pdb.query('SELECT 1 FROM acme_reference WHERE external_id = $1', ['ch_456'])).toEqual([]);
  });

  it('stores plugin-wide settings in its own namespace, validated by its schema', async () => {
    const store = new SettingsStore(db.dataSource, { schemas: loaded.settingsSchemas });
    expect(await store.resolve(globalSettings, 'plugin.acme')).toEqual({ webhookTolerance: 300 });
    await store.set(globalSettings, 'plugin.acme', { webhookTolerance: 600 });
    expect(await store.resolve(globalSettings, 'plugin.acme')).toEqual({ webhookTolerance: 600 });
    await expect(store.set(globalSettings, 'plugin.acme', { webhookTolerance: 0 })).rejects.toMatchObject({ code: 'SETTINGS_INVALID' });
  });
});
