import { jobIds } from '../../src/queues';
import { count, createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';
import { addPayment, createOrderFixture, emit, type OrderFixture } from '../support/order-fixture';

/*
 * The delayed "please complete your payment" on BullMQ's PostgreSQL backend (the embedded
 * default; the Stripe plugin's buyer-emails test covers Redis with real Stripe payments): the
 * event schedules one delayed job, and when it runs the email goes out only if the payment still
 * waits for the buyer.
 */
let db: TestDatabase;
const tracker = new RuntimeTracker();
beforeAll(async () => { db = await createTestDatabase(); });
afterEach(async () => { await tracker.cleanup(); });
afterAll(async () => { await db.destroy(); });

const DELAY_MS = 3_600_000;

async function eventIdsOf(o: OrderFixture): Promise<string[]> {
  const rows: { id: string }[] = await db.dataSource.query(`SELECT id::text AS id FROM outbox_event WHERE order_id = $1 AND topic = 'payment.action_required' ORDER BY id`, [o.orderId]);
  return rows.map((r) => r.id);
}
const actionMails = (o: OrderFixture) => count(db.dataSource, `SELECT count(*) n FROM email_message WHERE order_id = $1 AND template = 'payment-action-required'`, [o.orderId]);

it('waits, then emails the attempts that still wait for the buyer and only those, once each', async () => {
  const rt = await tracker.create({ dataSource: db.dataSource, config: { ...testConfig(isolatedBackend('postgres', db.url)), emails: { actionRequiredDelayMs: DELAY_MS } } });
  // Left at the 3-D Secure page; paid meanwhile; processing at the bank; failed; two prompts for one attempt.
  const left = await createOrderFixture(db.dataSource, { email: 'left@example.com' });
  const paid = await createOrderFixture(db.dataSource, { email: 'paid@example.com', status: 'paid' });
  const processing = await createOrderFixture(db.dataSource, { email: 'processing@example.com' });
  const failed = await createOrderFixture(db.dataSource, { email: 'failed@example.com' });
  const cases: [OrderFixture, string][] = [[left, 'created'], [paid, 'created'], [processing, 'pending'], [failed, 'failed']];
  for (const [o, state] of cases) {
    const payment = await addPayment(db.dataSource, o, 4250, state);
    const prompt = { paymentId: payment, provider: 'stripe', redirectUrl: `https://pay.example/${o.code}`, offSession: false };
    await emit(db.dataSource, o, 'payment.action_required', prompt);
    if (o === left) await emit(db.dataSource, o, 'payment.action_required', prompt); // the buyer retried the step
  }
  await rt.start({ schedulers: false });
  await waitFor('the events delivered', async () => (await count(db.dataSource, `SELECT count(*) n FROM outbox_delivery WHERE state = 'done'`)) === 5);
  const ids = (await Promise.all(cases.map(([o]) => eventIdsOf(o)))).flat().map(jobIds.actionRequiredCheck);
  expect(await actionMails(left)).toBe(0); // nothing before the delay
  for (const id of ids) {
    const job = await rt.queues.maintenance.getJob(id);
    expect(await job?.getState()).toBe('delayed');
    expect(job?.opts.delay).toBe(DELAY_MS);
    await job!.promote();
  }
  const outcomes: string[] = [];
  for (const id of ids) {
    await waitFor(`job ${id}`, async () => (await (await rt.queues.maintenance.getJob(id))?.getState()) === 'completed');
    outcomes.push(((await rt.queues.maintenance.getJob(id))!.returnvalue as { outcome: string }).outcome);
  }
  // The two prompts of one attempt (checked in either order, or at once): one email per attempt.
  expect(outcomes.slice(0, 2).sort()).toEqual(['not-needed', 'sent']);
  expect(outcomes.slice(2)).toEqual(['not-needed', 'not-needed', 'not-needed']);
  expect(await actionMails(left)).toBe(1);
  for (const o of [paid, processing, failed]) expect(await actionMails(o)).toBe(0);
  const [mail]: { body_text: string }[] = await db.dataSource.query(`SELECT body_text FROM email_message WHERE order_id = $1`, [left.orderId]);
  expect(mail!.body_text).toContain(`https://pay.example/${left.code}`);
});
