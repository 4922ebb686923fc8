import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ChildWorker } from '../support/child-worker';
import { count, createTestDatabase, redisUrl, waitFor, type TestDatabase } from '../support/harness';
import { createOrderFixture, emit } from '../support/order-fixture';
import { createJobsBackend } from '../../src/backend';

let db: TestDatabase;
let child: ChildWorker | null = null;
const prefix = `kw${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await createJobsBackend({ kind: 'redis', url: redisUrl, prefix }).destroyAll();
  await db.destroy();
});

describe('the worker process entry (src/worker-main.ts)', () => {
  it('starts from the environment, handles outbox events, and exits 0 on SIGTERM', async () => {
    const o = await createOrderFixture(db.dataSource, { email: 'standalone@example.com' });
    await emit(db.dataSource, o, 'order.placed', { total: 4250, currency: 'EUR' });
    const env: Record<string, string> = {
      DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, REDIS_URL: redisUrl, KASSA_JOBS_PREFIX: prefix, BASE_URL: 'https://tickets.example.org',
      SMTP_URL: '', // empty: emails are stored
    };
    child = new ChildWorker(join(__dirname, '../../src/worker-main.ts'), env);
    await child.waitFor('worker started');
    expect(child.stdout).toContain('"backend":"redis"');
    expect(child.stdout).toContain('"email":"stored"');

    await waitFor('the order email to be stored', async () => (await count(db.dataSource, `SELECT count(*) n FROM email_message WHERE order_id = $1`, [o.orderId])) === 1);
    const [mail] = await db.dataSource.query(`SELECT body_text FROM email_message WHERE order_id = $1`, [o.orderId]);
    expect(mail.body_text).toContain(`https://tickets.example.org/${o.organizerSlug}/${o.eventSlug}/order/${o.code}/${o.secret}/`);

    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});
