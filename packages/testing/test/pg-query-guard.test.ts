import { Client, Pool } from 'pg';
import { describeOverlaps, installPgQueryGuard } from '../src/pg-query-guard';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The guard every jest project loads: it must see a query handed to a client that is still busy
 * (which pg 8 queues with a warning from the third query on, and pg 9 refuses), and nothing else.
 * Each test takes what the guard recorded before the setup file's afterEach would fail it.
 */
describe('pg query guard', () => {
  const guard = installPgQueryGuard();
  let client: Client;
  let pool: Pool;
  beforeAll(async () => {
    client = new Client({ connectionString: url });
    await client.connect();
    pool = new Pool({ connectionString: url, max: 4 });
  });
  afterAll(async () => {
    await client.end();
    await pool.end();
  });

  it('records a second query sent to one client while the first runs, with its SQL and caller', async () => {
    guard.take();
    await Promise.all([client.query('SELECT pg_sleep(0.05)'), client.query('SELECT 2 AS second_one')]);
    const seen = guard.take();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.sql).toBe('SELECT 2 AS second_one');
    expect(seen[0]!.stack).toContain('pg-query-guard.test.ts');
    expect(describeOverlaps(seen)).toMatch(/^1 pg query was issued on a client that was still executing another/);
  });

  it('records nothing for queries one after the other on a client, or side by side through a pool', async () => {
    guard.take();
    await client.query('BEGIN');
    await client.query('SELECT 1');
    await client.query('COMMIT');
    await Promise.all([pool.query('SELECT pg_sleep(0.05)'), pool.query('SELECT 2'), pool.query('SELECT 3')]);
    expect(guard.take()).toEqual([]);
    expect(describeOverlaps([])).toBeUndefined();
  });
});
