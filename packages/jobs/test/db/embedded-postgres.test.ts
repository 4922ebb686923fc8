import { createDataSource, runMigrations, startEmbeddedPostgres, type DataSource, type EmbeddedPostgres } from '@kassa/core/host';
import { loadJobsConfig } from '../../src/config';
import { listStoredEmails } from '../../src/emails/stored-emails';
import { count, createEffectTable, insertEvents, recordingHandler, RuntimeTracker, uuids, waitFor } from '../support/harness';
import { createOrderFixture, emit } from '../support/order-fixture';

// The embedded default: no DATABASE_URL, no REDIS_URL. PGlite served over the wire protocol, BullMQ's
// PostgreSQL backend on it, one connection per pool (PGlite serves one session at a time).
let pg: EmbeddedPostgres;
let ds: DataSource;
const tracker = new RuntimeTracker();

beforeAll(async () => {
  pg = await startEmbeddedPostgres();
  ds = createDataSource({ url: pg.url, poolSize: 2 });
  await ds.initialize();
  await runMigrations(ds);
  await createEffectTable(ds);
}, 120_000);
afterAll(async () => {
  await tracker.cleanup();
  await ds?.destroy();
  await pg?.close();
});

describe('jobs on the embedded PostgreSQL (PGlite)', () => {
  it('relays and handles events in order per order, and stores emails for the control panel', async () => {
    const config = loadJobsConfig({ BASE_URL: 'http://127.0.0.1:3000' }, pg.url);
    expect(config.backend).toMatchObject({ kind: 'postgres', poolSize: 1 });
    expect(config.smtpUrl).toBeNull();
    const rt = await tracker.create({ dataSource: ds, config: { ...config, worker: { ...config.worker, relayPollMs: 50, orderWaitMs: 50 } }, handlers: [recordingHandler()] });
    await insertEvents(ds, 40, uuids(4));
    const o = await createOrderFixture(ds, { email: 'embedded@example.com' });
    await emit(ds, o, 'order.placed', { total: 4250, currency: 'EUR' });
    await rt.start({ schedulers: true });
    await waitFor('41 deliveries', async () => (await count(ds, `SELECT count(*) n FROM outbox_delivery`)) === 41, 90_000, 200);

    expect(await count(ds, `SELECT count(DISTINCT event_id) n FROM test_effect`)).toBe(41);
    expect(await count(ds, `SELECT count(*) n FROM (
      SELECT event_id, lag(event_id) OVER (PARTITION BY order_id ORDER BY seq) AS prev FROM test_effect) t WHERE prev > event_id`)).toBe(0);
    expect((await listStoredEmails(ds, { orderId: o.orderId })).map((e) => [e.template, e.transport])).toEqual([['order-placed', 'stored']]);
  }, 120_000);
});
