import { createKassaCore } from '@kassa/core/host';
import { createShop, providerContextFactory, providerLookup, StoredMethodProvider, TestClock } from '@kassa/testing';
import { createTestDatabase, isolatedBackend, RuntimeTracker, testConfig, waitFor, type TestDatabase } from '../support/harness';

/*
 * The scheduled charge run through the maintenance queue and a real worker: due instalments are
 * charged, and a second run finds nothing left to charge.
 */
let db: TestDatabase;
const tracker = new RuntimeTracker();
const clock = new TestClock('2030-01-10T12:00:00Z');

beforeAll(async () => { db = await createTestDatabase(); });
afterEach(async () => { await tracker.cleanup(); });
afterAll(async () => { await db.destroy(); });

it('charge-instalments charges the due instalments once', async () => {
  const provider = new StoredMethodProvider({ identifier: 'saved' });
  const providers = providerLookup(provider);
  const core = createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock });
  const shop = await createShop(db.dataSource, { price: 1200 });
  await core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 2, intervalDays: 14 });
  const orders: string[] = [];
  for (let i = 0; i < 3; i++) {
    const placed = await core.orders.placeOrder({ eventId: shop.event.id, email: `b${i}@example.org`, positions: [{ productId: shop.product.id }], provider: 'saved' });
    await core.plans.createPlan(placed.order.id, { provider: 'saved', actor: { type: 'system' } });
    const method = await core.storedMethods.save(placed.order.id, 'saved', { reference: `pm_job_${i}` });
    await core.plans.useMethod(placed.order.id, method.id, { type: 'system' });
    await core.payments.executePayment(placed.payment!.id, {});
    orders.push(placed.order.id);
  }
  clock.advance({ days: 14 });
  const rt = await tracker.create({ dataSource: db.dataSource, config: testConfig(isolatedBackend('redis', db.url)), services: core, clock });
  await rt.start({ schedulers: false, relay: false });
  const run = async () => {
    const job = await rt.queues.maintenance.add('charge-instalments', {});
    await waitFor('charge-instalments to finish', async () => ['completed', 'failed'].includes(await job.getState()));
    const done = await rt.queues.maintenance.getJob(job.id!);
    if (done?.failedReason) throw new Error(done.failedReason);
    return done?.returnvalue as { claimed: number };
  };
  expect(await run()).toMatchObject({ claimed: 3 });
  expect(provider.calls).toHaveLength(3);
  for (const id of orders) expect((await core.orders.getSummary(id)).status).toBe('paid');
  expect(await run()).toMatchObject({ claimed: 0 });
  expect(provider.calls).toHaveLength(3);
  await core.close();
});
