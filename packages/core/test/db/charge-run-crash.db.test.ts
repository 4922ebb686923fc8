import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createKassaCore } from '@kassa/core/host';
import { StoredMethodProvider, TestClock, createShop, createTestDatabase, providerContextFactory, providerLookup, type TestDatabase } from '@kassa/testing';
import { TableChargeLedger } from '../fixtures/table-charge-ledger';

/*
 * A charge run SIGKILLed after the gateway charged but before core heard the answer: the
 * instalment keeps its lease, no other run charges it meanwhile, and once the lease ran out the
 * next run charges it again with the same idempotency key, so the gateway holds one charge.
 */
describe('charge run killed mid-charge', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase(); await TableChargeLedger.create(db.dataSource); });
  afterAll(async () => { await db.destroy(); });

  it('charges every instalment exactly once across the crash', async () => {
    const clock = new TestClock('2030-03-01T10:00:00Z');
    const provider = new StoredMethodProvider({ identifier: 'saved', ledger: new TableChargeLedger(db.dataSource) });
    const providers = providerLookup(provider);
    const core = createKassaCore({ dataSource: db.dataSource, providers, providerContext: providerContextFactory(providers, clock), clock });
    const shop = await createShop(db.dataSource, { price: 900 });
    await core.plans.updateSettings(shop.event.id, { enabled: true, instalments: 2, intervalDays: 30 });
    const orders: string[] = [];
    for (let i = 0; i < 5; i++) {
      const placed = await core.orders.placeOrder({ eventId: shop.event.id, email: `b${i}@example.org`, positions: [{ productId: shop.product.id }], provider: 'saved' });
      await core.plans.createPlan(placed.order.id, { provider: 'saved', actor: { type: 'system' } });
      const method = await core.storedMethods.save(placed.order.id, 'saved', { reference: `pm_crash_${i}`, brand: 'visa', last4: '4242' });
      await core.plans.useMethod(placed.order.id, method.id, { type: 'system' });
      await core.payments.executePayment(placed.payment!.id, {});
      orders.push(placed.order.id);
    }
    clock.advance({ days: 30 });

    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../fixtures/charge-run-child.ts')], {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '../../../../tsconfig.base.json'), DB_URL: db.url, DB_SCHEMA: db.schema, NOW: clock.now().toISOString(), HANG_AT: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const charged = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /CHARGED (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code} before charging: ${err}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const gateway = async () => db.dataSource.query('SELECT payment_id, count(*)::int AS n FROM test_gateway_charge GROUP BY payment_id') as Promise<{ payment_id: string; n: number }[]>;
    // The gateway charged it; core never heard: the instalment is still due, held by the dead run's lease.
    expect((await gateway()).find((r) => r.payment_id === charged)).toEqual({ payment_id: charged, n: 1 });
    const [held]: { state: string; lease_until: Date | null }[] = await db.dataSource.query('SELECT state, lease_until FROM plan_instalment WHERE payment_id = $1', [charged]);
    expect(held!.lease_until).not.toBeNull();
    expect((await core.payments.loadPayment(charged)).payment.state).toBe('created');

    // A run while the dead run's leases hold charges none of its instalments.
    await core.chargeRuns.run();
    expect(provider.calls.some((c) => c.paymentId === charged)).toBe(false);
    // After the lease: charged again with the same key, and the gateway answers with its first charge.
    clock.advance({ minutes: 6 });
    await core.chargeRuns.run();
    expect(provider.calls.filter((c) => c.paymentId === charged)).toHaveLength(1);
    const rows = await gateway();
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    for (const id of orders) expect((await core.orders.getSummary(id)).status).toBe('paid');
    await core.close();
  });
});
