import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { emitEvent, verifyWebhookSignature, WebhookService, withTransaction } from '@kassa/core/host';
import { createOrderFixture, type OrderFixture } from '../support/order-fixture';
import { count, createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';

/** A receiver on a loopback port that answers with the status the test chooses, and records what came. */
interface Received { headers: IncomingMessage['headers']; body: string }
let db: TestDatabase;
let server: Server;
let base: string;
const received: Received[] = [];
let answer = 200;
const tracker = new RuntimeTracker();
const secretKey = randomBytes(32);

beforeAll(async () => {
  db = await createTestDatabase();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answer;
      res.end(answer < 300 ? 'thanks' : 'not now');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await tracker.cleanup();
  received.length = 0;
  answer = 200;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await db.destroy();
});

async function emit(o: OrderFixture, topic: 'order.paid' | 'order.placed' | 'order.expired', payload: Record<string, unknown> = {}) {
  await withTransaction(db.dataSource, (tx) => emitEvent(tx, { topic, organizerId: o.organizerId, orderId: o.orderId, payload: { total: 4250, currency: 'EUR', notifyBuyer: true, ...payload } }));
}

async function runtime(webhooks: WebhookService, attempts = 3, kind: 'redis' | 'postgres' = 'redis') {
  const rt = await tracker.create({
    dataSource: db.dataSource, config: testConfig(isolatedBackend(kind, db.url), { retry: { attempts, backoffMs: 20 } }),
    withoutEmailHandlers: true, webhooks: { service: webhooks, timeoutMs: 2000 },
  });
  await rt.start({ schedulers: false });
  return rt;
}

describe('organizer webhooks through the outbox', () => {
  it('delivers a subscribed event once per endpoint, signed, and only to that organizer\'s endpoints', async () => {
    const service = new WebhookService({ dataSource: db.dataSource, secretKey, allowPrivateAddresses: true });
    const mine = await createOrderFixture(db.dataSource);
    const other = await createOrderFixture(db.dataSource);
    const { endpoint, secret } = await service.create(mine.organizerId, { url: `${base}/hook`, eventTypes: ['order.paid'] });
    await service.create(mine.organizerId, { url: `${base}/placed-only`, eventTypes: ['order.placed'] });
    await service.create(other.organizerId, { url: `${base}/theirs`, eventTypes: ['order.paid'] });
    await runtime(service);

    await emit(mine, 'order.paid');
    await emit(mine, 'order.expired');
    await waitFor('one delivery', async () => (await count(db.dataSource, `SELECT count(*) n FROM webhook_delivery WHERE state = $1`, ['delivered'])) === 1);
    await waitFor('the outbox to finish', async () => (await count(db.dataSource, 'SELECT count(*) n FROM outbox_delivery')) === 2);
    expect(received).toHaveLength(1);
    const [hit] = received;
    const body = JSON.parse(hit!.body);
    expect(body).toMatchObject({ type: 'order.paid', organizerId: mine.organizerId, data: { orderId: mine.orderId, orderCode: mine.code, eventId: mine.eventId, total: 4250, currency: 'EUR' } });
    expect(body.data).not.toHaveProperty('notifyBuyer');
    expect(body.id).toMatch(/^evt_\d+$/);
    expect(verifyWebhookSignature(secret, hit!.body, String(hit!.headers['kassa-signature']), new Date())).toBe(true);
    expect(verifyWebhookSignature('whsec_wrong', hit!.body, String(hit!.headers['kassa-signature']), new Date())).toBe(false);
    const [delivery] = await service.deliveries(mine.organizerId, endpoint.id);
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 1, responseStatus: 200 });
    expect(hit!.headers['kassa-delivery']).toBe(delivery!.id);
    expect((await service.delivery(mine.organizerId, delivery!.id)).responseBody).toBe('thanks');
    await expect(service.delivery(other.organizerId, delivery!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('retries a failing endpoint with backoff, gives up after the attempts, and delivers on a manual retry', async () => {
    const service = new WebhookService({ dataSource: db.dataSource, secretKey, allowPrivateAddresses: true });
    const o = await createOrderFixture(db.dataSource);
    const { endpoint } = await service.create(o.organizerId, { url: `${base}/down`, eventTypes: ['order.paid'] });
    answer = 503;
    const rt = await runtime(service, 3);
    await emit(o, 'order.paid');
    await waitFor('given up', async () => (await service.deliveries(o.organizerId, endpoint.id))[0]?.state === 'undeliverable');
    const [failed] = await service.deliveries(o.organizerId, endpoint.id);
    expect(failed).toMatchObject({ attempts: 3, responseStatus: 503, error: 'answered HTTP 503' });
    expect(received).toHaveLength(3);
    // The failed job is visible to the organizer in the failed-jobs list, not to another.
    expect((await rt.listFailedJobs({ queue: 'webhooks', viewer: { organizerId: o.organizerId, operator: false } })).map((j) => j.id)).toHaveLength(1);
    expect(await rt.listFailedJobs({ queue: 'webhooks', viewer: { organizerId: '00000000-0000-4000-8000-000000000000', operator: false } })).toEqual([]);

    answer = 200;
    const again = await service.requeue(o.organizerId, failed!.id);
    await rt.enqueueWebhookDeliveries([{ id: again.id, organizerId: o.organizerId }], again.attempts);
    await waitFor('delivered', async () => (await service.deliveries(o.organizerId, endpoint.id))[0]?.state === 'delivered');
    expect((await service.deliveries(o.organizerId, endpoint.id))[0]).toMatchObject({ attempts: 4, responseStatus: 200 });
    expect(await count(db.dataSource, 'SELECT count(*) n FROM webhook_delivery WHERE organizer_id = $1', [o.organizerId])).toBe(1);
  });

  it('refuses to connect to a private address unless the operator allows it', async () => {
    const allowed = new WebhookService({ dataSource: db.dataSource, secretKey, allowPrivateAddresses: true });
    const strict = new WebhookService({ dataSource: db.dataSource, secretKey, allowPrivateAddresses: false });
    const o = await createOrderFixture(db.dataSource);
    // Saved while private addresses were allowed, delivered by a worker that does not allow them.
    const { endpoint } = await allowed.create(o.organizerId, { url: `${base}/x`, eventTypes: ['order.paid'] });
    const named = await allowed.create(o.organizerId, { url: `${base.replace('127.0.0.1', 'localhost')}/y`, eventTypes: ['order.paid'] });
    await runtime(strict, 1);
    await emit(o, 'order.paid');
    await waitFor('both given up', async () => (await count(db.dataSource, 'SELECT count(*) n FROM webhook_delivery WHERE state = $1', ['undeliverable'])) === 2);
    expect(received).toEqual([]);
    expect((await strict.deliveries(o.organizerId, endpoint.id))[0]!.error).toMatch(/private, loopback or link-local/);
    expect((await strict.deliveries(o.organizerId, named.endpoint.id))[0]!.error).toMatch(/resolves to a private address/);
  });

  it('delivers on BullMQ\'s PostgreSQL backend too (no Redis)', async () => {
    const service = new WebhookService({ dataSource: db.dataSource, secretKey, allowPrivateAddresses: true });
    const o = await createOrderFixture(db.dataSource);
    const { endpoint } = await service.create(o.organizerId, { url: `${base}/pg`, eventTypes: ['order.placed'] });
    await runtime(service, 3, 'postgres');
    await emit(o, 'order.placed');
    await waitFor('delivered', async () => (await service.deliveries(o.organizerId, endpoint.id))[0]?.state === 'delivered');
    expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'order.placed', data: { orderCode: o.code } });
  });

  it('a disabled endpoint gets no delivery', async () => {
    const service = new WebhookService({ dataSource: db.dataSource, secretKey, allowPrivateAddresses: true });
    const o = await createOrderFixture(db.dataSource);
    const { endpoint } = await service.create(o.organizerId, { url: `${base}/off`, eventTypes: ['order.paid'], enabled: false });
    await runtime(service);
    await emit(o, 'order.paid');
    await waitFor('the outbox to finish', async () => (await count(db.dataSource, 'SELECT count(*) n FROM outbox_delivery o JOIN outbox_event e ON e.id = o.event_id WHERE e.organizer_id = $1', [o.organizerId])) === 1);
    expect(await service.deliveries(o.organizerId, endpoint.id)).toEqual([]);
    expect(received).toEqual([]);
  });
});

describe('endpoint validation', () => {
  const service = () => new WebhookService({ dataSource: db.dataSource, secretKey });
  it.each([
    ['ftp://example.org/x', /https/], ['http://127.0.0.1/x', /private/], ['http://[::1]/x', /private/], ['http://169.254.169.254/latest', /private/],
    ['http://10.1.2.3/x', /private/], ['http://localhost:3000/x', /local host/], ['https://user:pw@example.org/x', /user name/], ['not a url', /not a URL/],
    ['http://[::ffff:127.0.0.1]/x', /private/],
  ])('refuses %s naming the url field', async (url, why) => {
    const o = await createOrderFixture(db.dataSource);
    await expect(service().create(o.organizerId, { url, eventTypes: ['order.paid'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', params: { field: 'url', detail: expect.stringMatching(why) } });
    expect(await service().list(o.organizerId)).toEqual([]);
  });

  it('refuses unknown or no event types, naming eventTypes', async () => {
    const o = await createOrderFixture(db.dataSource);
    await expect(service().create(o.organizerId, { url: 'https://hooks.example.org/x', eventTypes: [] })).rejects.toMatchObject({ params: { field: 'eventTypes' } });
    await expect(service().create(o.organizerId, { url: 'https://hooks.example.org/x', eventTypes: ['order.exploded'] })).rejects.toMatchObject({ params: { field: 'eventTypes' } });
  });

  it('stores the secret sealed, and rotation replaces it', async () => {
    const o = await createOrderFixture(db.dataSource);
    const { endpoint, secret } = await service().create(o.organizerId, { url: 'https://hooks.example.org/x', eventTypes: ['order.paid'] });
    const [row]: { secret: unknown }[] = await db.dataSource.query('SELECT secret FROM webhook_endpoint WHERE id = $1', [endpoint.id]);
    expect(JSON.stringify(row!.secret)).not.toContain(secret.slice(6));
    expect(service().openSecret(endpoint.id, row!.secret)).toBe(secret);
    const rotated = await service().rotateSecret(o.organizerId, endpoint.id);
    expect(rotated.secret).not.toBe(secret);
    const [after]: { secret: unknown }[] = await db.dataSource.query('SELECT secret FROM webhook_endpoint WHERE id = $1', [endpoint.id]);
    expect(service().openSecret(endpoint.id, after!.secret)).toBe(rotated.secret);
    // Sealed to its row: another endpoint's id does not open it.
    expect(() => service().openSecret('00000000-0000-4000-8000-000000000000', after!.secret)).toThrow(/cannot be opened/);
  });
});
