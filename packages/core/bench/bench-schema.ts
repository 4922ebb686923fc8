import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { Event, Organizer, createDataSource, runMigrations } from '../src/host';

/** A schema of the bench's own with every migration, reached through one connection. */
export interface BenchSchema {
  /** One connection: every statement of the run goes through the backend measured. */
  ds: DataSource;
  /** A second connection, for reading statistics beside the measured backend. */
  admin: Client;
  schema: string;
  /** The measured backend's process id (its CPU is read from /proc). */
  pid: number;
  /** Drops the schema (kept with BENCH_KEEP=1) and closes both connections. */
  close(): Promise<void>;
}

export async function openBenchSchema(prefix: string, url: string): Promise<BenchSchema> {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const ds = createDataSource({ url, schema, poolSize: 1 });
  const close = async () => {
    if (ds.isInitialized) await ds.destroy();
    if (process.env.BENCH_KEEP !== '1') await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  };
  try {
    await ds.initialize();
    await runMigrations(ds);
    const [{ pid }] = await ds.query('SELECT pg_backend_pid() AS pid') as [{ pid: number }];
    return { ds, admin, schema, pid, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** An organizer and a live EUR event in UTC. */
export async function createBenchEvent(ds: DataSource): Promise<{ organizer: Organizer; event: Event }> {
  const organizer = await ds.getRepository(Organizer).save({ slug: 'bench', name: 'Bench' });
  const event = await ds.getRepository(Event).save({
    organizerId: organizer.id, slug: 'rush', name: 'Rush', currency: 'EUR', timezone: 'UTC', locale: 'en',
    paymentTermDays: 14, paymentTermAcceptLate: true, live: true,
  });
  return { organizer, event };
}

/** A 10.00 EUR ticket in a quota too large to run out during a bench. */
export async function createTicketQuota(ds: DataSource, eventId: string): Promise<{ productId: string; quotaId: string }> {
  const [product] = await ds.query(
    `INSERT INTO product (event_id, name, price, active) VALUES ($1, 'Ticket', 1000, true) RETURNING id`, [eventId]) as [{ id: string }];
  const [quota] = await ds.query(`INSERT INTO quota (event_id, name, size) VALUES ($1, 'All', 1000000000) RETURNING id`, [eventId]) as [{ id: string }];
  await ds.query('INSERT INTO quota_product (quota_id, product_id) VALUES ($1, $2)', [quota.id, product.id]);
  return { productId: product.id, quotaId: quota.id };
}
