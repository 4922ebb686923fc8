import { handleReturn } from '../../src/routes/checkout-routes';
import { buyerConfirms, createStripeHarness, httpRequest, linkParams, paymentRow, placeStripeOrder, type StripeHarness } from '../support/stripe-harness';

describe('Stripe amounts in Stripe\'s own exponents, end to end', () => {
  let h: StripeHarness;
  beforeAll(async () => { h = await createStripeHarness({ currency: 'ISK', price: 500 }); });
  afterAll(async () => { await h.destroy(); });

  it('ISK: 500 krónur are 50000 at Stripe; paid, then a partial refund of 200 krónur is 20000 at Stripe', async () => {
    const { orderId, payment, intentId, payUrl } = await placeStripeOrder(h);
    const pi = await h.stripe.paymentIntents.retrieve(intentId);
    expect({ amount: pi.amount, currency: pi.currency }).toEqual({ amount: 50000, currency: 'isk' });
    await buyerConfirms(h, intentId, 'pm_card_visa');
    await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
    expect(await paymentRow(h, payment.id)).toMatchObject({ state: 'confirmed', amount: 500 });
    const { outcome } = await h.core.refunds.createRefund(orderId, { paymentId: payment.id, amount: { amount: 200, currency: 'ISK' }, source: 'admin', actor: { type: 'system' } });
    expect(outcome?.kind).toBe('done');
    const refunds = await h.stripe.refunds.list({ payment_intent: intentId });
    expect(refunds.data.map((r) => r.amount)).toEqual([20000]);
  });
});
