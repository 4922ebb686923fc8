import { Event, Order, OrderPayment } from '@kassa/core/host';
import { paymentLinkToken } from '../../src/intents';
import { handleIntent, handlePayPage, handleReturn } from '../../src/routes/checkout-routes';
import { createStripeHarness, httpRequest, paymentRow, type StripeHarness } from '../support/stripe-harness';

/**
 * A buyer can never start a Stripe payment for an order that cannot end up paid: after the event's
 * last date of payments, or expired while late payments are off, executePayment and the pay,
 * intent and return routes refuse before Stripe is asked for anything — no PaymentIntent is
 * created at the emulator and no client secret handed out.
 */
describe('Stripe: orders that cannot be paid are refused before any money moves', () => {
  let h: StripeHarness;
  beforeAll(async () => { h = await createStripeHarness({ price: 2500 }); });
  afterAll(async () => { await h.destroy(); });
  afterEach(async () => {
    await h.db.dataSource.getRepository(Event).update({ id: h.shop.event.id }, { paymentTermLast: null, paymentTermAcceptLate: true });
  });

  /** Every PaymentIntent the emulator holds for this account. */
  const intentCount = async () => (await h.stripe.paymentIntents.list({ limit: 100 })).data.length;

  /** A Stripe order placed but not executed yet: a created payment, no intent. */
  async function placed() {
    const { order, payment } = await h.core.orders.placeOrder({
      eventId: h.shop.event.id, email: 'buyer@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe',
    });
    const p = payment as OrderPayment;
    return { order, payment: p, params: { paymentId: p.id, token: paymentLinkToken(order, p.id) } };
  }

  const lastDateYesterday = () => h.db.dataSource.getRepository(Event)
    .update({ id: h.shop.event.id }, { paymentTermLast: new Date(h.clock.now().getTime() - 86_400_000) });

  it('after the last date of payments: executePayment, pay, intent and return refuse and no intent is created', async () => {
    const { order, payment, params } = await placed();
    await lastDateYesterday();
    const before = await intentCount();

    await expect(h.core.payments.executePayment(payment.id, {})).rejects.toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
    const page = await handlePayPage(httpRequest(params), h.rt);
    expect(page).toMatchObject({ redirect: expect.stringContaining(`/order/${order.code}/`) });
    const intent = await handleIntent(httpRequest(params), h.rt);
    expect(intent).toMatchObject({ status: 409, body: { error: { code: 'ORDER_NOT_PAYABLE', message: expect.stringMatching(/last date of payments/) } } });
    expect((intent as { body: Record<string, unknown> }).body.clientSecret).toBeUndefined();
    const back = await handleReturn(httpRequest(params), h.rt);
    expect(back).toMatchObject({ redirect: expect.stringContaining(`/order/${order.code}/`) });

    expect(await intentCount()).toBe(before);
    const row = await paymentRow(h, payment.id);
    expect(row.state).toBe('created');
    expect(row.info.intentId).toBeUndefined();
  });

  it('an intent created in time: after the last date, return and intent send the buyer to the order page, not back to paying', async () => {
    const { order, payment, params } = await placed();
    const { outcome } = await h.core.payments.executePayment(payment.id, {});
    expect(outcome.kind).toBe('requires_action'); // the intent exists, the buyer has not paid yet
    await lastDateYesterday();
    const back = await handleReturn(httpRequest(params), h.rt);
    expect(back).toMatchObject({ redirect: expect.stringContaining(`/order/${order.code}/`) });
    expect(back).not.toMatchObject({ redirect: expect.stringContaining('/plugins/stripe/pay/') });
    const intent = await handleIntent(httpRequest(params), h.rt);
    expect(intent).toMatchObject({ status: 409, body: { error: { code: 'ORDER_NOT_PAYABLE' } } });
    expect((intent as { body: Record<string, unknown> }).body.clientSecret).toBeUndefined();
    expect(await handlePayPage(httpRequest(params), h.rt)).toMatchObject({ redirect: expect.stringContaining(`/order/${order.code}/`) });
  });

  it('an expired order while late payments are off: the intent route refuses, no intent is created', async () => {
    const { order, params } = await placed();
    h.clock.advance({ days: 30 });
    await h.core.orders.expireOrders();
    expect((await h.db.dataSource.getRepository(Order).findOneByOrFail({ id: order.id })).status).toBe('expired');
    await h.db.dataSource.getRepository(Event).update({ id: h.shop.event.id }, { paymentTermAcceptLate: false });
    const before = await intentCount();
    const intent = await handleIntent(httpRequest(params), h.rt);
    expect(intent).toMatchObject({ status: 409, body: { error: { code: 'ORDER_NOT_PAYABLE', message: expect.stringMatching(/late payments are not accepted/) } } });
    expect(await intentCount()).toBe(before);
  });

  it('the same route on a payable order does create the intent (the check above is what stops it)', async () => {
    const { params } = await placed();
    const before = await intentCount();
    const intent = await handleIntent(httpRequest(params), h.rt);
    expect(intent).toMatchObject({ status: 200, body: { clientSecret: expect.stringMatching(/^pi_/) } });
    expect(await intentCount()).toBe(before + 1);
  });
});
