import { createServer, type Server } from 'node:net';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ScriptedProvider, TestClock, createShop, providerContextFactory, providerLookup } from '@kassa/testing';
import {
  coreMigrations, createDataSource, createKassaCore, Event, isKassaError, Order, OrderPayment, Organizer, Product, runMigrations, startEmbeddedPostgres,
  withTransaction, type DataSource, type EmbeddedPostgres,
} from '@kassa/core/host';

// The embedded database (PGlite over the wire protocol) must run the very same migrations and
// TypeORM code as the real PostgreSQL. Starting PGlite takes a few seconds, so one in-memory
// instance serves most of this file.

const execFileAsync = promisify(execFile);

async function client(url: string, options?: string): Promise<Client> {
  const c = new Client({ connectionString: url, ...(options ? { options } : {}) });
  await c.connect();
  return c;
}

async function seedOrder(ds: DataSource, slug: string): Promise<{ order: Order; payment: OrderPayment }> {
  const organizer = await ds.getRepository(Organizer).save(ds.getRepository(Organizer).create({ slug, name: 'Embedded Org' }));
  const event = await ds.getRepository(Event).save(ds.getRepository(Event).create({
    organizerId: organizer.id, slug: 'conf', name: 'Conf', currency: 'EUR',
  }));
  const product = await ds.getRepository(Product).save(ds.getRepository(Product).create({
    eventId: event.id, name: 'Ticket', price: 4200,
  }));
  const order = await ds.getRepository(Order).save(ds.getRepository(Order).create({
    organizerId: organizer.id, eventId: event.id, code: 'ABC12', secret: `secret-${slug}`, email: 'buyer@example.org',
    total: product.price, currency: 'EUR', status: 'pending', expires: new Date('2030-01-01T00:00:00Z'),
  }));
  const payment = await ds.getRepository(OrderPayment).save(ds.getRepository(OrderPayment).create({
    orderId: order.id, localId: 1, state: 'created', amount: order.total, currency: 'EUR', provider: 'manual',
  }));
  return { order, payment };
}

describe('embedded PostgreSQL (in memory)', () => {
  let pg: EmbeddedPostgres;
  let ds: DataSource;
  let applied: string[];

  beforeAll(async () => {
    // A short idle-in-transaction limit, so that the test of it does not wait a minute.
    pg = await startEmbeddedPostgres({ idleInTransactionTimeoutMs: 800 });
    ds = createDataSource({ url: pg.url, poolSize: 4 });
    await ds.initialize();
    applied = await runMigrations(ds);
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await pg?.close();
  });

  it('listens on a random loopback port', () => {
    expect(pg.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(pg.url).not.toMatch(/:0\//);
  });

  it('runs the real migrations and creates every core table', async () => {
    expect(applied).toEqual(expect.arrayContaining(['InitialSchema1763700000000', 'JobsAndEmails1763900000000']));
    const rows: { table_name: string }[] = await ds.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining([
      'organizer', 'event', 'product', 'quota', 'quota_product', 'kassa_order', 'order_position', 'order_fee',
      'order_payment', 'order_refund', 'log_entry', 'outbox_event', 'setting', 'kassa_migrations',
    ]));
    expect(await runMigrations(ds)).toEqual([]);
  });

  it('runs a short flow through TypeORM: inserts, reads back money, and a compare-and-set update', async () => {
    const { order, payment } = await seedOrder(ds, 'flow');
    const reread = await ds.getRepository(Order).findOneByOrFail({ id: order.id });
    expect(reread.total).toBe(4200);
    expect(typeof reread.total).toBe('number');

    const cas = (from: string) => ds.getRepository(OrderPayment).createQueryBuilder().update()
      .set({ state: 'confirmed', paymentDate: new Date() }).where('id = :id AND state = :from', { id: payment.id, from }).execute();
    expect((await cas('created')).affected).toBe(1);
    expect((await cas('created')).affected).toBe(0); // the second writer sees the state already moved
    expect((await ds.getRepository(OrderPayment).findOneByOrFail({ id: payment.id })).state).toBe('confirmed');

    // Constraints come from the same migrations: a negative amount is refused here too.
    await expect(ds.query(`UPDATE order_payment SET amount = -1 WHERE id = $1`, [payment.id])).rejects.toThrow(/check constraint/);
  });

  it('places an order and confirms its payment through the domain services: the order is paid', async () => {
    const clock = new TestClock('2030-03-01T10:00:00Z');
    const providers = providerLookup(new ScriptedProvider({ identifier: 'card' }));
    const core = createKassaCore({ dataSource: ds, providers, providerContext: providerContextFactory(providers, clock), clock });
    const shop = await createShop(ds, { price: 2500, quotaSize: 5 });

    const placed = await core.orders.placeOrder({
      eventId: shop.event.id, email: 'buyer@example.org', positions: [{ productId: shop.product.id }], provider: 'card',
    });
    expect(placed.order).toMatchObject({ status: 'pending', total: 2500, currency: 'EUR' });
    const result = await core.payments.confirmPayment(placed.payment!.id, { actor: { type: 'provider', id: 'card' } });
    expect(result.kind).toBe('order_paid');
    expect((await ds.getRepository(Order).findOneByOrFail({ id: placed.order.id })).status).toBe('paid');
    const topics: { topic: string }[] = await ds.query(`SELECT topic FROM outbox_event WHERE order_id = $1 ORDER BY id`, [placed.order.id]);
    expect(topics.map((t) => t.topic)).toEqual(['order.placed', 'payment.confirmed', 'order.paid']);

    // Quota is checked under row locks; on the single PGlite session those serialise by turn-taking.
    const attempts = await Promise.allSettled(Array.from({ length: 10 }, () => core.orders.placeOrder({
      eventId: shop.event.id, email: null, positions: [{ productId: shop.product.id }], provider: 'card',
    })));
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(4);
    const refusals = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(refusals.map((r) => (r.reason as { code?: string }).code)).toEqual(Array(6).fill('ORDER_QUOTA_EXCEEDED'));
  });

  it('keeps transactions isolated across pooled connections: 20 racing CAS writers, one winner', async () => {
    const { payment } = await seedOrder(ds, 'race');
    const results = await Promise.all(Array.from({ length: 20 }, () => withTransaction(ds, async (tx) => {
      const row = await tx.getRepository(OrderPayment).findOne({ where: { id: payment.id }, lock: { mode: 'pessimistic_write' } });
      if (row?.state !== 'created') return 0;
      const res = await tx.query(`UPDATE order_payment SET state = 'confirmed' WHERE id = $1 AND state = 'created'`, [payment.id]);
      await tx.query(`INSERT INTO log_entry (order_id, object_type, object_id, action, actor_type) VALUES ($1, 'payment', $2, 'confirmed', 'system')`,
        [payment.orderId, payment.id]);
      return (res as [unknown, number])[1];
    })));
    expect(results.filter((n) => n === 1)).toHaveLength(1);
    const logs: { n: number }[] = await ds.query(`SELECT count(*)::int AS n FROM log_entry WHERE object_id = $1`, [payment.id]);
    expect(logs[0]!.n).toBe(1);
  });

  it('never mixes one client\'s large statement with another\'s (messages spanning many socket reads)', async () => {
    await ds.query(`CREATE TABLE big_doc (id int PRIMARY KEY, doc jsonb NOT NULL)`);
    const big = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(300_000) });
    const work = Array.from({ length: 24 }, async (_, i) => {
      if (i % 4 === 0) {
        await ds.query(`INSERT INTO big_doc (id, doc) VALUES ($1, $2::jsonb)`, [i, big(i)]);
        return true;
      }
      const rows: { a: string; n: number }[] = await ds.query(`SELECT $1::text AS a, $2::int AS n`, [`small-${i}`, i]);
      return rows[0]!.a === `small-${i}` && rows[0]!.n === i;
    });
    expect(await Promise.all(work)).toEqual(Array.from({ length: 24 }, () => true));
    const rows: { id: number; i: number; len: number }[] = await ds.query(
      `SELECT id, (doc->>'i')::int AS i, length(doc->>'pad') AS len FROM big_doc ORDER BY id`);
    expect(rows).toEqual([0, 4, 8, 12, 16, 20].map((id) => ({ id, i: id, len: 300_000 })));
  });

  it('gives each connection the search_path of its startup options (createDataSource schema, BullMQ)', async () => {
    const a = await client(pg.url, '-c search_path=tenant_a');
    const b = await client(pg.url, '-c search_path="tenant_b"');
    const plain = await client(pg.url);
    try {
      await plain.query(`CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b`);
      await a.query(`CREATE TABLE marker (v text)`);
      await b.query(`CREATE TABLE marker (v text)`);
      // Interleaved: the session changes hands between every statement.
      await Promise.all([a.query(`INSERT INTO marker VALUES ('a')`), b.query(`INSERT INTO marker VALUES ('b')`)]);
      expect((await a.query(`SELECT v FROM marker`)).rows).toEqual([{ v: 'a' }]);
      expect((await b.query(`SELECT v FROM marker`)).rows).toEqual([{ v: 'b' }]);
      expect((await plain.query(`SHOW search_path`)).rows[0].search_path).toBe('public');
      expect((await plain.query(`SELECT count(*)::int AS n FROM organizer`)).rows[0].n).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.end(), b.end(), plain.end()]);
    }
  });

  it('delivers NOTIFY to the connection that listens, not to the one that committed it', async () => {
    const listener = await client(pg.url);
    const sender = await client(pg.url);
    try {
      const received: { channel: string; payload?: string }[] = [];
      const sent: unknown[] = [];
      listener.on('notification', (n) => received.push({ channel: n.channel, payload: n.payload }));
      sender.on('notification', (n) => sent.push(n));
      await listener.query('LISTEN "bull:emails"');
      const arrived = new Promise<void>((resolve) => listener.once('notification', () => resolve()));
      await sender.query(`BEGIN; SELECT pg_notify('bull:emails', 'job-7'); COMMIT`);
      await arrived;
      expect(received).toEqual([{ channel: 'bull:emails', payload: 'job-7' }]);
      expect(sent).toEqual([]);
      await listener.query('UNLISTEN *');
      await sender.query(`NOTIFY "bull:emails", 'job-8'`);
      await listener.query('SELECT 1'); // a round trip in which a stray delivery would have arrived
      expect(received).toHaveLength(1);
    } finally {
      await Promise.all([listener.end(), sender.end()]);
    }
  });

  it('answers COPY FROM STDIN with feature_not_supported instead of letting it abort PGlite', async () => {
    const c = await client(pg.url);
    try {
      await c.query(`CREATE TABLE copy_target (v int)`);
      await expect(c.query(`COPY copy_target FROM STDIN`)).rejects.toMatchObject({ code: '0A000', message: expect.stringMatching(/COPY FROM STDIN is not supported/) });
      await c.query('BEGIN');
      await expect(c.query(`/* load */ copy copy_target (v) from stdin with (format csv)`)).rejects.toMatchObject({ code: '0A000' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' }); // PostgreSQL's own rule after an error
      await c.query('ROLLBACK');
      expect((await c.query(`SELECT count(*)::int AS n FROM copy_target`)).rows[0].n).toBe(0);
      expect((await ds.query(`SELECT count(*)::int AS n FROM organizer`))[0].n).toBeGreaterThan(0); // still alive for everyone
    } finally {
      await c.end();
    }
  });

  it('cuts off a connection that sits idle in a transaction, rolls it back, and lets the others go on', async () => {
    const stuck = await client(pg.url);
    const errors: Error[] = [];
    stuck.on('error', (err) => errors.push(err));
    const other = await client(pg.url);
    try {
      await stuck.query('BEGIN');
      await stuck.query(`INSERT INTO organizer (slug, name) VALUES ('stuck', 'Never committed')`);
      // Queued behind the open transaction until the limit (800 ms here) cuts the holder off.
      const waited = await other.query(`SELECT count(*)::int AS n FROM organizer WHERE slug = 'stuck'`);
      expect(waited.rows[0].n).toBe(0);
      await expect(stuck.query('COMMIT')).rejects.toThrow();
      expect(errors.map((e) => e.message).join(' ')).toMatch(/idle for more than 800 ms/);
    } finally {
      await other.end();
      await stuck.end().catch(() => {});
    }
  });

  it('keeps named prepared statements apart per connection and closes them when it goes away', async () => {
    const a = await client(pg.url);
    const b = await client(pg.url);
    try {
      // node-postgres prepares a named statement once per connection; both use the same name. The two
      // connections run side by side, each one statement at a time (a client runs one query at once).
      const run = async (c: Client, add: number) => {
        const values: number[] = [];
        for (let i = 0; i < 10; i++) values.push((await c.query({ name: 'next_value', text: `SELECT $1::int + ${add} AS v`, values: [i] })).rows[0].v);
        return values;
      };
      const [ra, rb] = await Promise.all([run(a, 1000), run(b, 2000)]);
      expect([ra, rb]).toEqual([Array.from({ length: 10 }, (_, i) => 1000 + i), Array.from({ length: 10 }, (_, i) => 2000 + i)]);
      // Only this test's statement: core's own prepared statements (from earlier tests) live in the same session.
      const count = async () => (await b.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE '%next_value'`)).rows[0].n as number;
      expect(await count()).toBe(2);
      await a.end();
      // The server closes a's statements once it has seen a's socket close, asynchronously.
      let left = await count();
      for (let i = 0; i < 50 && left !== 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = await count();
      }
      expect(left).toBe(1);
    } finally {
      await b.end();
      await a.end().catch(() => {});
    }
  });

  it('makes other connections wait while one holds a transaction, and rolls back a client that vanishes in one', async () => {
    const holder = await client(pg.url);
    holder.on('error', () => {}); // its socket is cut on purpose below
    const other = await client(pg.url);
    try {
      await holder.query(`BEGIN`);
      await holder.query(`INSERT INTO organizer (slug, name) VALUES ('vanishing', 'Gone')`);
      let answered = false;
      const waiting = other.query(`SELECT count(*)::int AS n FROM organizer WHERE slug = 'vanishing'`).then((r) => {
        answered = true;
        return r.rows[0].n as number;
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(answered).toBe(false); // still queued behind the open transaction
      (holder as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      expect(await waiting).toBe(0); // the vanished client's insert was rolled back
    } finally {
      await other.end();
      await holder.end().catch(() => {});
    }
  });
});

describe('embedded PostgreSQL in a data directory', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'kassa-embedded-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('keeps the data across restarts, does not re-run migrations, and refuses a second user of the directory', async () => {
    const first = await startEmbeddedPostgres({ dataDir: dir });
    try {
      const ds = createDataSource({ url: first.url, poolSize: 2 });
      await ds.initialize();
      expect(await runMigrations(ds)).toHaveLength(coreMigrations.length);
      await ds.getRepository(Organizer).save(ds.getRepository(Organizer).create({ slug: 'persisted', name: 'Kept' }));
      await ds.destroy();

      const second = startEmbeddedPostgres({ dataDir: dir });
      await expect(second).rejects.toMatchObject({ code: 'EMBEDDED_DATA_DIR_IN_USE', params: { dataDir: dir, pid: process.pid } });
    } finally {
      await first.close();
    }

    const again = await startEmbeddedPostgres({ dataDir: dir });
    try {
      const ds = createDataSource({ url: again.url, poolSize: 2 });
      await ds.initialize();
      expect(await runMigrations(ds)).toEqual([]);
      expect((await ds.getRepository(Organizer).findOneByOrFail({ slug: 'persisted' })).name).toBe('Kept');
      await ds.destroy();
    } finally {
      await again.close();
    }
  });
});

describe('embedded PostgreSQL: online backup', () => {
  let root: string;
  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'kassa-embedded-backup-')); });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('waits for open transactions, writes a tar of committed data, and the tar unpacked into pgdata starts', async () => {
    const file = join(root, 'kassa.tar');
    const live = await startEmbeddedPostgres({ dataDir: join(root, 'live') });
    const rows = async (url: string) => {
      const c = await client(url);
      try {
        return (await c.query(`SELECT slug FROM organizer ORDER BY slug`)).rows.map((r: { slug: string }) => r.slug);
      } finally {
        await c.end();
      }
    };
    try {
      const ds = createDataSource({ url: live.url, poolSize: 2 });
      await ds.initialize();
      // One table is data enough to back up (the migrations run on PGlite in the tests above).
      await ds.query(`CREATE TABLE organizer (slug text PRIMARY KEY, name text NOT NULL)`);
      await ds.query(`INSERT INTO organizer (slug, name) VALUES ('before-backup', 'x')`);
      const holder = await client(live.url);
      await holder.query('BEGIN');
      await holder.query(`INSERT INTO organizer (slug, name) VALUES ('in-flight', 'x')`);
      let done = false;
      const backup = live.backup(file).then(() => { done = true; });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(done).toBe(false); // a backup never sees half a transaction: it waits for the commit
      await holder.query('COMMIT');
      await backup;
      await holder.end();
      await ds.query(`INSERT INTO organizer (slug, name) VALUES ('after-backup', 'x')`);
      await ds.destroy();
    } finally {
      await live.close();
    }

    const restoredDir = join(root, 'restored');
    await mkdir(join(restoredDir, 'pgdata'), { recursive: true });
    await execFileAsync('tar', ['-xf', file, '-C', join(restoredDir, 'pgdata')]);
    const restored = await startEmbeddedPostgres({ dataDir: restoredDir });
    try {
      expect(await rows(restored.url)).toEqual(['before-backup', 'in-flight']);
    } finally {
      await restored.close();
    }
  });
});

describe('embedded PostgreSQL: refusals', () => {
  it('refuses a bad port, schema name or timeout before starting anything', async () => {
    await expect(startEmbeddedPostgres({ port: 70000 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/port/) });
    await expect(startEmbeddedPostgres({ schema: 'Bad Name' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/schema/) });
    await expect(startEmbeddedPostgres({ idleInTransactionTimeoutMs: -1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/idleInTransactionTimeoutMs/) });
  });

  it('names a port that is already taken, and leaves the data directory free', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    const dir = await mkdtemp(join(tmpdir(), 'kassa-embedded-port-'));
    try {
      const err: unknown = await startEmbeddedPostgres({ port, dataDir: dir }).catch((e: unknown) => e);
      expect(isKassaError(err, 'EMBEDDED_START_FAILED')).toBe(true);
      expect((err as Error).message).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
