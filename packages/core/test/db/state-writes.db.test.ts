import {
  Order, OrderPayment, OrderRefund, orderEvents, orderMachine, orderStates, paymentEvents, paymentMachine, paymentStates,
  refundEvents, refundMachine, refundStates, withTransaction, type DataSource,
} from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { moveOrder, movePayment, moveRefund } from '../../src/persistence/state-change';
import { admin, createCoreHarness, errorCode, type CoreHarness } from './core-harness';

/*
 * Every (state, event) pair of the three transition tables, run through the services' write
 * primitive on the real PostgreSQL: allowed edges move the row (compare-and-set) to the table's
 * target, forbidden ones are refused with STATE_TRANSITION_NOT_ALLOWED and write nothing.
 */
const pairs = <S extends string, E extends string>(states: readonly S[], events: readonly E[]) =>
  states.flatMap((s) => events.map((e) => [s, e] as [S, E]));

describe('state writes, generated from the transition tables', () => {
  let h: CoreHarness;
  let ids: { order: string; payment: string; refund: string };
  beforeAll(async () => {
    h = await createCoreHarness();
    const { order, paymentId } = await h.order(await h.shop());
    await h.core.payments.confirmPayment(paymentId, { actor: admin });
    const { refund } = await h.core.refunds.createRefund(order.id, {
      paymentId, amount: { amount: 100, currency: 'EUR' }, source: 'admin', provider: 'manual', actor: admin,
    });
    ids = { order: order.id, payment: paymentId, refund: refund.id };
  });
  afterAll(async () => { await h.destroy(); });

  async function attempt(ds: DataSource, table: string, id: string, from: string, write: () => Promise<void>, to: string | undefined) {
    await ds.query(`UPDATE ${table} SET ${table === 'kassa_order' ? 'status' : 'state'} = $1 WHERE id = $2`, [from, id]);
    const before = await snapshotRows(ds);
    if (to === undefined) {
      expect(await errorCode(write())).toBe('STATE_TRANSITION_NOT_ALLOWED');
      expect(await snapshotRows(ds)).toEqual(before);
    } else {
      await write();
    }
    const [row] = await ds.query(`SELECT ${table === 'kassa_order' ? 'status' : 'state'} AS s FROM ${table} WHERE id = $1`, [id]);
    expect(row.s).toBe(to ?? from);
  }

  it.each(pairs(orderStates, orderEvents))('Order %s on %s', async (from, event) => {
    await attempt(h.ds, 'kassa_order', ids.order, from, () => withTransaction(h.ds, async (tx) => {
      await moveOrder(tx, await tx.findOneByOrFail(Order, { id: ids.order }), event);
    }), orderMachine.next(from, event));
  });

  it.each(pairs(paymentStates, paymentEvents))('OrderPayment %s on %s', async (from, event) => {
    await attempt(h.ds, 'order_payment', ids.payment, from, () => withTransaction(h.ds, async (tx) => {
      await movePayment(tx, await tx.findOneByOrFail(OrderPayment, { id: ids.payment }), event);
    }), paymentMachine.next(from, event));
  });

  it.each(pairs(refundStates, refundEvents))('OrderRefund %s on %s', async (from, event) => {
    await attempt(h.ds, 'order_refund', ids.refund, from, () => withTransaction(h.ds, async (tx) => {
      await moveRefund(tx, await tx.findOneByOrFail(OrderRefund, { id: ids.refund }), event);
    }), refundMachine.next(from, event));
  });
});
