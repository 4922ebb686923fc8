import { Order, OrderPayment, money } from '@kassa/core/host';
import { admin, createCoreHarness, logActions, outboxTopics, type CoreHarness } from './core-harness';

const provider = { type: 'provider', id: 'card' } as const;

/*
 * confirmPayment runs in one transaction with a SAVEPOINT between confirming the payment and
 * deciding about the order. pretix's rule must survive that: when the order step fails, the
 * confirmation (with its log entry and event) still commits and only the order step is undone.
 * The failure is a real one, raised by PostgreSQL: a trigger in this test's schema refuses
 * to change the status of one chosen order.
 */
describe('payments.confirmPayment: a failing order step keeps the confirmation', () => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await createCoreHarness();
    await h.ds.query(`CREATE TABLE refuse_order_update (order_id uuid PRIMARY KEY)`);
    await h.ds.query(`CREATE FUNCTION refuse_order_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM refuse_order_update WHERE order_id = NEW.id) THEN
          RAISE EXCEPTION 'order % may not change in this test', NEW.id;
        END IF;
        RETURN NEW;
      END $$`);
    await h.ds.query(`CREATE TRIGGER refuse_order_update BEFORE UPDATE OF status ON kassa_order
      FOR EACH ROW EXECUTE FUNCTION refuse_order_update()`);
  });
  afterAll(async () => { await h.destroy(); });

  it('rethrows the order step error, keeps the payment confirmed and writes nothing of the order step', async () => {
    const { order, paymentId } = await h.order(await h.shop());
    await h.ds.query('INSERT INTO refuse_order_update (order_id) VALUES ($1)', [order.id]);

    await expect(h.core.payments.confirmPayment(paymentId, { actor: provider, info: { charge: 'ch_sp' } }))
      .rejects.toThrow(/may not change in this test/);

    const payment = await h.ds.manager.findOneByOrFail(OrderPayment, { id: paymentId });
    expect(payment).toMatchObject({ state: 'confirmed', info: { charge: 'ch_sp' } });
    expect((await h.ds.manager.findOneByOrFail(Order, { id: order.id })).status).toBe('pending');
    expect(await logActions(h.ds, order.id)).toEqual(['kassa.order.placed', 'kassa.order.payment.confirmed']);
    expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.confirmed']);
    expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'pending', isPendingWithFullPayment: true });

    // The same connection pool goes on working (the savepoint was released with the commit).
    await h.ds.query('DELETE FROM refuse_order_update WHERE order_id = $1', [order.id]);
    const again = await h.core.payments.confirmPayment(paymentId, { actor: provider });
    expect(again.kind).toBe('already_confirmed');
    const other = await h.order(await h.shop());
    expect((await h.core.payments.confirmPayment(other.paymentId, { actor: provider })).kind).toBe('order_paid');
  });

  /*
   * With both steps in one transaction, a confirmation's payment row is visible to others only at
   * its commit. If the order step read the sums in a snapshot taken before the other confirmation
   * committed, two halves confirmed at once would each see only their own half, and the order
   * would stay pending though fully paid. Each confirmation takes the order lock before touching
   * its payment, so the order step always reads after the other one's commit.
   */
  it('two halves confirmed at the same moment leave the order paid, every time', async () => {
    const shop = await h.shop({ price: 10_000 });
    const rounds = await Promise.all(Array.from({ length: 8 }, async () => {
      const { order } = await h.order(shop, { provider: 'bank' });
      const halves = [
        await h.core.payments.createPayment(order.id, { provider: 'card', amount: money(5000, 'EUR'), actor: admin }),
        await h.core.payments.createPayment(order.id, { provider: 'card', amount: money(5000, 'EUR'), actor: admin }),
      ];
      const results = await Promise.all(halves.map((p) => h.core.payments.confirmPayment(p.id, { actor: provider })));
      return { order, kinds: results.map((r) => r.kind).sort() };
    }));
    for (const { order, kinds } of rounds) {
      expect(kinds).toEqual(['order_paid', 'partially_paid']);
      expect(await h.core.orders.getSummary(order.id)).toMatchObject({ status: 'paid', pendingSum: 0, isPendingWithFullPayment: false });
    }
  });
});
