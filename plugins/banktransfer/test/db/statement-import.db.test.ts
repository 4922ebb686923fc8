import { createImport, handleAssign, runImport } from '../../src';
import { organizerSettings } from '@kassa/core/host';
import { ACCOUNT, createBankHarness, createDemoShop, orderRow, paymentsOf, type BankHarness, type DemoShop } from '../support/bank-harness';
import { demoOrders, mappings, sample } from '../support/samples';

/*
 * The import job on the real database: each matching case with the sample statements, booked
 * through core's payments port; re-importing books nothing twice; one organizer's import never
 * touches another organizer's orders with the same codes.
 */
describe('bank statement import (job, real database)', () => {
  let h: BankHarness;
  let demo: DemoShop;
  let other: DemoShop;

  const spec = demoOrders().map((o) => ({ code: o.code, status: o.standing.paid ? 'paid' as const : o.standing.canceled ? 'canceled' as const : o.standing.expired ? 'expired' as const : 'pending' as const, total: o.total }));

  beforeAll(async () => {
    h = await createBankHarness();
    demo = await createDemoShop(h, spec);
    // A second organizer with the very same event slug and codes: never matched by the first's imports.
    other = await createDemoShop(h, spec);
  });
  afterAll(async () => { await h?.destroy(); });

  const importFile = async (organizerId: string, content: string, csvMapping = null as typeof mappings.sparkasse | null) => {
    const imp = await createImport(h.rt, { organizerId, content, fileName: 'statement', csvMapping });
    return runImport(h.rt, imp.id);
  };
  const confirmed = async (code: string, shop = demo) => (await paymentsOf(h, shop.orders[code]!)).filter((p) => p.state === 'confirmed');
  const unmatched = async (organizerId: string) => h.db.dataSource.query(
    `SELECT reason, amount::int AS amount FROM banktransfer_transaction WHERE organizer_id = $1 AND state = 'unmatched' ORDER BY created_at, id`, [organizerId]);

  it('CAMT.053: exact → paid, too little → partial (the rest still owed), too much → paid and overpaid; the rest is unmatched', async () => {
    const result = await importFile(demo.shop.organizer.id, sample('camt053-demo.xml'));
    expect(result).toMatchObject({ phase: 'finished', total: 5, processed: 5, booked: 3, unmatched: 2, alreadyImported: 0 });

    // Exact: the pending payment made at placement is the one confirmed.
    expect(await confirmed('Q7ZRX')).toEqual([expect.objectContaining({ id: demo.payments.Q7ZRX, amount: 2350 })]);
    expect((await orderRow(h, demo.orders.Q7ZRX!)).status).toBe('paid');

    // Too little: a payment for what arrived, flagged; the order still owes the rest.
    const partial = await confirmed('K3LMN');
    expect(partial).toEqual([expect.objectContaining({ amount: 2000, provider: 'banktransfer' })]);
    expect(partial[0]!.info).toMatchObject({ flags: ['partial'], assignedBy: 'import', transactionId: expect.any(String) });
    expect((await orderRow(h, demo.orders.K3LMN!)).status).toBe('pending');

    // Too much: paid, flagged overpaid.
    const over = await confirmed('P8TWA');
    expect(over).toEqual([expect.objectContaining({ amount: 2000 })]);
    expect(over[0]!.info).toMatchObject({ flags: ['overpaid'], payerIban: 'AT611904300234573201' });
    expect((await orderRow(h, demo.orders.P8TWA!)).status).toBe('paid');

    expect(await unmatched(demo.shop.organizer.id)).toEqual([{ reason: 'no-order', amount: 500 }, { reason: 'not-a-credit', amount: -490 }]);
  });

  it('re-importing the same statement books nothing twice', async () => {
    const before = await h.db.dataSource.query('SELECT count(*)::int AS n FROM order_payment');
    const again = await importFile(demo.shop.organizer.id, sample('camt053-demo.xml'));
    expect(again).toMatchObject({ phase: 'finished', total: 5, alreadyImported: 5, booked: 0, processed: 0 });
    expect(await h.db.dataSource.query('SELECT count(*)::int AS n FROM order_payment')).toEqual(before);
    expect(await confirmed('K3LMN')).toHaveLength(1);
  });

  it('re-importing after the organizer changed the account in the settings books nothing twice either', async () => {
    const target = organizerSettings(demo.shop.organizer.id);
    await h.settings.set(target, 'payment.banktransfer', { iban: 'NL91ABNA0417164300', bic: 'ABNANL2A' });
    try {
      const before = await h.db.dataSource.query('SELECT count(*)::int AS n FROM order_payment');
      const again = await importFile(demo.shop.organizer.id, sample('camt053-demo.xml'));
      expect(again).toMatchObject({ phase: 'finished', total: 5, alreadyImported: 5, booked: 0 });
      expect(await h.db.dataSource.query('SELECT count(*)::int AS n FROM order_payment')).toEqual(before);
    } finally {
      await h.settings.set(target, 'payment.banktransfer', { iban: ACCOUNT.iban, bic: ACCOUNT.bic });
    }
  });

  it('MT940: one transfer for two orders whose amounts add up; money for a paid or canceled order is confirmed and flagged', async () => {
    const result = await importFile(demo.shop.organizer.id, sample('mt940-demo.sta'));
    expect(result).toMatchObject({ phase: 'finished', total: 5, booked: 4, unmatched: 1 });
    expect(await confirmed('H9JCD')).toEqual([expect.objectContaining({ id: demo.payments.H9JCD, amount: 1000 })]);
    expect(await confirmed('V7EFG')).toEqual([expect.objectContaining({ id: demo.payments.V7EFG, amount: 1500 })]);
    expect((await orderRow(h, demo.orders.H9JCD!)).status).toBe('paid');
    expect((await orderRow(h, demo.orders.V7EFG!)).status).toBe('paid');

    const paidAgain = (await confirmed('N3PQR')).filter((p) => p.provider === 'banktransfer');
    expect(paidAgain.map((p) => p.info.flags)).toEqual([['order-already-paid', 'overpaid']]);

    // Two identical transfers on one day stay two (keys count repeats), both kept on the canceled order.
    const canceled = await confirmed('T8XYZ');
    expect(canceled.map((p) => [p.amount, p.info.flags])).toEqual([[1000, ['order-canceled']], [1000, ['order-canceled']]]);
    expect((await orderRow(h, demo.orders.T8XYZ!)).status).toBe('canceled');
  });

  it('CSV with the saved column mapping: an expired order is confirmed (revived while the quota allows) and flagged', async () => {
    const result = await importFile(demo.shop.organizer.id, sample('csv-sparkasse.csv'), mappings.sparkasse);
    // Q7ZRX was paid by the CAMT import already: this statement's transfer is a second one (other key), flagged.
    expect(result).toMatchObject({ phase: 'finished', total: 4, booked: 2, unmatched: 2 });
    expect((await confirmed('E7WST')).map((p) => [p.amount, p.info.flags])).toEqual([[3000, ['order-expired']]]);
    expect((await orderRow(h, demo.orders.E7WST!)).status).toBe('paid');
  });

  it('an organizer\'s import matches only its own orders', async () => {
    for (const code of Object.keys(other.orders)) {
      expect((await paymentsOf(h, other.orders[code]!)).filter((p) => p.provider === 'banktransfer' && p.id !== other.payments[code])).toEqual([]);
    }
    expect(await confirmed('Q7ZRX', other)).toEqual([]);
    // The same file for the other organizer books on its orders, its keys being its own.
    const result = await importFile(other.shop.organizer.id, sample('camt053-demo.xml'));
    expect(result).toMatchObject({ alreadyImported: 0, booked: 3 });
    expect(await confirmed('Q7ZRX', other)).toEqual([expect.objectContaining({ id: other.payments.Q7ZRX })]);
  });

  it('refunds a booked transfer as a manual refund: it waits in transit with the payer\'s account until the organizer marks it done', async () => {
    const [over] = await confirmed('P8TWA');
    const r = await h.core.refunds.createRefund(demo.orders.P8TWA!, { paymentId: over!.id, amount: { amount: 500, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    expect(r.outcome).toMatchObject({ kind: 'transit', info: { manual: true, payerIban: 'AT611904300234573201', sepaExported: false } });
    expect(r.refund.state).toBe('transit');
    const done = await h.rt.payments.markRefundDone(r.refund.id);
    expect(done.state).toBe('done');
  });

  it('an assignment whose booking stopped half-way is finished by assigning again, and booked once', async () => {
    const [fee] = await h.db.dataSource.query(`SELECT id FROM banktransfer_transaction WHERE organizer_id = $1 AND state = 'unmatched' AND amount = 500`, [demo.shop.organizer.id]);
    // As if the process died after the compare-and-set and before the booking.
    await h.db.dataSource.query(`UPDATE banktransfer_transaction SET state = 'assigned', allocations = $2 WHERE id = $1`,
      [fee.id, JSON.stringify([{ orderId: demo.orders.K3LMN, code: 'K3LMN', eventSlug: 'demo', amount: 500, flags: ['partial'] }])]);
    const assign = () => handleAssign({ method: 'POST', params: { transactionId: fee.id }, query: {}, headers: {}, rawBody: Buffer.alloc(0), organizerId: demo.shop.organizer.id, body: { code: 'K3LMN' } }, h.rt);
    expect(await assign()).toMatchObject({ status: 200 });
    expect((await confirmed('K3LMN')).map((p) => p.amount)).toEqual([2000, 500]);
    await expect(assign()).rejects.toMatchObject({ code: 'BANKTRANSFER_TRANSACTION_CLOSED', status: 409 });
    expect((await confirmed('K3LMN')).map((p) => p.amount)).toEqual([2000, 500]);
  });

  it('the port records received money only for the plugin\'s own providers', async () => {
    await expect(h.rt.payments.receivedPayment(demo.orders.K3LMN!, { provider: 'manual', amount: { amount: 100, currency: 'EUR' } }))
      .rejects.toThrow(/not a provider of plugin banktransfer/);
    expect((await paymentsOf(h, demo.orders.K3LMN!)).filter((p) => p.provider === 'manual')).toEqual([]);
  });

  it('a file that cannot be read is refused naming the line, and nothing is stored', async () => {
    const count = async () => (await h.db.dataSource.query('SELECT count(*)::int AS n FROM banktransfer_import'))[0].n;
    const before = await count();
    await expect(createImport(h.rt, { organizerId: demo.shop.organizer.id, content: sample('mt940-bad-line.sta') }))
      .rejects.toMatchObject({ code: 'BANKTRANSFER_STATEMENT_INVALID', status: 400, message: expect.stringMatching(/line \d+/) });
    expect(await count()).toBe(before);
  });
});
