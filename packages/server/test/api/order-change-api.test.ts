import { OrderPosition } from '@kassa/core/host';
import { ScriptedProvider, snapshotRows } from '@kassa/testing';
import { createOrganizerFixture, createTestApp, type OrganizerFixture, type TestApp } from '../infra/test-app';

let t: TestApp;
let a: OrganizerFixture;
let b: OrganizerFixture;
const scripted = new ScriptedProvider({ identifier: 'scripted', refund: true, partialRefund: true });

beforeAll(async () => {
  t = await createTestApp({}, {}, [scripted]);
  a = await createOrganizerFixture(t);
  b = await createOrganizerFixture(t);
});
afterAll(async () => t.close());

function change(token: string, orderId: string, payload: unknown) {
  return t.app.inject({
    method: 'POST', url: `/api/v1/orders/${orderId}/change`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload),
  });
}

async function paidOrder(f: OrganizerFixture, count: number) {
  const placed = await t.core.orders.placeOrder({
    eventId: f.event.id, email: 'api@example.test', provider: 'scripted', positions: Array.from({ length: count }, () => ({ productId: f.product.id })),
  });
  await t.core.payments.executePayment(placed.payment!.id, {});
  const positions = await t.db.dataSource.getRepository(OrderPosition).find({ where: { orderId: placed.order.id }, order: { positionNo: 'ASC' } });
  return { order: placed.order, positions };
}

describe('POST /api/v1/orders/:orderId/change', () => {
  it('patches, cancels and creates positions in one change; the paid state follows', async () => {
    const { order, positions } = await paidOrder(a, 2); // 2 × 25.00, paid
    const res = await change(a.token, order.id, {
      cancelPositions: [{ position: positions[0]!.id }],
      patchPositions: [{ position: positions[1]!.id, body: { price: 3000 } }],
      createPositions: [{ productId: a.product.id, attendeeName: 'Grace' }],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ previousTotal: 5000, previousStatus: 'paid' });
    expect(body.order).toMatchObject({ total: 5500, status: 'pending', summary: { pendingSum: 500 } });
    expect(body.order.positions.map((p: { positionNo: number; price: number; canceled: boolean }) => [p.positionNo, p.price, p.canceled]))
      .toEqual([[1, 2500, true], [2, 3000, false], [3, 2500, false]]);
  });

  it('a shrinking change leaves the order paid and overpaid', async () => {
    const { order, positions } = await paidOrder(a, 1);
    const res = await change(a.token, order.id, { patchPositions: [{ position: positions[0]!.id, body: { price: 2000 } }] });
    expect(res.statusCode).toBe(200);
    expect(res.json().order).toMatchObject({ status: 'paid', total: 2000, summary: { pendingSum: -500, isOverpaid: true } });
  });

  it('refuses bad input naming the field, another organizer\'s order, and an impossible change, writing nothing', async () => {
    const { order, positions } = await paidOrder(a, 1);
    const before = await snapshotRows(t.db.dataSource);
    const floatPrice = await change(a.token, order.id, { patchPositions: [{ position: positions[0]!.id, body: { price: 20.5 } }] });
    expect(floatPrice.statusCode).toBe(400);
    expect(JSON.stringify(floatPrice.json())).toContain('price');
    expect((await change(a.token, order.id, { patchPositions: [{ position: positions[0]!.id, body: {} }] })).statusCode).toBe(400);
    expect((await change(a.token, order.id, {})).json().error.code).toBe('ORDER_CHANGE_INVALID');
    expect((await change(a.token, order.id, { cancelPositions: [{ position: positions[0]!.id }] })).json().error).toMatchObject({ code: 'ORDER_CHANGE_INVALID', params: { field: 'operations' } });
    const theirs = await change(b.token, order.id, { cancelPositions: [{ position: positions[0]!.id }] });
    expect(theirs.statusCode).toBe(404);
    // A price beyond what an organizer may enter (13 digits of minor units) is refused, naming it.
    const absurd = await change(a.token, order.id, { patchPositions: [{ position: positions[0]!.id, body: { price: 10_000_000_000_000 } }] });
    expect(absurd.statusCode).toBe(400);
    expect(absurd.json().error).toMatchObject({ code: 'ORDER_CHANGE_INVALID', params: { field: 'operations[0].price' }, message: expect.stringContaining('at most 9999999999999 minor units') });
    const absurdAdd = await change(a.token, order.id, { createPositions: [{ productId: a.product.id, price: Number.MAX_SAFE_INTEGER }] });
    expect(absurdAdd.statusCode).toBe(400);
    expect(absurdAdd.json().error).toMatchObject({ code: 'ORDER_CHANGE_INVALID', params: { field: 'operations[0].price' }, message: expect.stringContaining('at most 9999999999999 minor units') });
    // Another organizer's product cannot be added.
    const foreign = await change(a.token, order.id, { createPositions: [{ productId: b.product.id }] });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().error.params.field).toBe('operations[0].productId');
    expect(await snapshotRows(t.db.dataSource)).toEqual(before);
  });
});
