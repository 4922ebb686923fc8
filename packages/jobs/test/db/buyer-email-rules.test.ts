import { count, createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';
import { addPayment, createOrderFixture, emit, type OrderFixture } from '../support/order-fixture';

/*
 * When the buyer emails hold back, decided from the event's payload (core decides with the change)
 * and from the order as it is when the email is written.
 */
let db: TestDatabase;
const tracker = new RuntimeTracker();
beforeAll(async () => { db = await createTestDatabase(); });
afterEach(async () => { await tracker.cleanup(); });
afterAll(async () => { await db.destroy(); });

const delivered = (o: OrderFixture) =>
  count(db.dataSource, `SELECT count(*) n FROM outbox_delivery d JOIN outbox_event e ON e.id = d.event_id WHERE e.order_id = $1 AND d.state = 'done'`, [o.orderId]);
const written = async (o: OrderFixture): Promise<{ template: string; body_text: string }[]> =>
  db.dataSource.query(`SELECT template, body_text FROM email_message WHERE order_id = $1 ORDER BY created_at, id`, [o.orderId]);

it('no "payment failed" when core says not to or the order no longer waits; no "order canceled" when canceled as refunded; a fee still due is said so', async () => {
  const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)) });
  const pending = await createOrderFixture(db.dataSource, { email: 'pending@example.com' });
  const flagged = await createOrderFixture(db.dataSource, { email: 'flagged@example.com' });
  const paidSince = await createOrderFixture(db.dataSource, { email: 'paid@example.com', status: 'paid' });
  const refunded = await createOrderFixture(db.dataSource, { email: 'refunded@example.com', status: 'canceled' });
  const withFee = await createOrderFixture(db.dataSource, { email: 'fee@example.com', locale: 'de' });
  for (const o of [pending, flagged, paidSince]) {
    const p = await addPayment(db.dataSource, o, 4250, 'failed');
    await emit(db.dataSource, o, 'payment.failed', { paymentId: p, provider: 'stripe', message: 'declined', notifyBuyer: o !== flagged });
  }
  await emit(db.dataSource, refunded, 'order.canceled', { from: 'paid', to: 'canceled', cancellationFee: 0, refundAmount: 0, autoRefund: false, currency: 'EUR', notifyBuyer: false });
  await emit(db.dataSource, withFee, 'order.canceled', { from: 'pending', to: 'pending', cancellationFee: 1500, refundAmount: 0, autoRefund: false, currency: 'EUR', notifyBuyer: true });
  await rt.start({ schedulers: false });
  for (const o of [pending, flagged, paidSince, refunded, withFee]) await waitFor(`order ${o.code}`, async () => (await delivered(o)) === 1);

  expect((await written(pending)).map((m) => m.template)).toEqual(['payment-failed']);
  expect(await written(flagged)).toEqual([]);
  expect(await written(paidSince)).toEqual([]);
  expect(await written(refunded)).toEqual([]);
  const [fee] = await written(withFee);
  expect(fee!.template).toBe('order-canceled');
  expect(fee!.body_text.replace(/\u00a0/g, ' ')).toContain('Eine Stornogebühr von 15,00 € ist noch zu zahlen');
});
