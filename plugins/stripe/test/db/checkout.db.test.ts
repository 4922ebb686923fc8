import { KassaError } from '@kassa/core/host';
import { handleIntent, handlePayPage, handleReturn } from '../../src/routes/checkout-routes';
import {
  buyerConfirms, createStripeHarness, httpRequest, linkParams, orderStatus, paymentRow, placeStripeOrder, type StripeHarness,
} from '../support/stripe-harness';

describe('Stripe checkout: PaymentIntent on the server, confirm in the browser, verdict from the re-fetched intent', () => {
  let h: StripeHarness;
  beforeAll(async () => { h = await createStripeHarness({ price: 2500 }); });
  afterAll(async () => { await h.destroy(); });

  it('creates the intent with the server amount, metadata and the payment as idempotency key, and sends the buyer to the pay page', async () => {
    const { payment, intentId, payUrl } = await placeStripeOrder(h);
    expect(payUrl).toMatch(new RegExp(`^${h.baseUrl}/plugins/stripe/pay/${payment.id}/`));
    const pi = await h.stripe.paymentIntents.retrieve(intentId);
    expect(pi).toMatchObject({ amount: 2500, currency: 'eur', capture_method: 'automatic', status: 'requires_payment_method' });
    expect(pi.metadata).toMatchObject({ kassa_payment_id: payment.id, event: h.shop.event.slug });
    expect(pi.metadata.order_code).toMatch(/^[A-Z0-9]+$/);
    expect((await paymentRow(h, payment.id)).state).toBe('created');
  });

  it('pays with 4242: the return route confirms the payment and the order is paid', async () => {
    const { orderId, payment, intentId, payUrl } = await placeStripeOrder(h);
    const page = await handlePayPage(httpRequest(linkParams(payUrl)), h.rt);
    expect(page).toMatchObject({ status: 200, view: { partial: 'stripe/payment-element' } });
    const view = (page as { view: { data: Record<string, string> } }).view.data;
    expect(view.publishableKey).toMatch(/^pk_test_/);
    expect(view.stripeJsUrl).toBe(h.emulator.stripeJsUrl);
    const secret = await handleIntent(httpRequest(linkParams(view.intentUrl as string)), h.rt);
    expect((secret as { body: { clientSecret: string } }).body.clientSecret).toMatch(new RegExp(`^${intentId}_secret_`));

    await buyerConfirms(h, intentId, 'pm_card_visa');
    const back = await handleReturn(httpRequest(linkParams(view.returnUrl as string), { query: { redirect_status: 'failed' } }), h.rt);
    expect(back).toMatchObject({ redirect: expect.stringContaining(`/order/`) });
    const row = await paymentRow(h, payment.id);
    expect(row.state).toBe('confirmed');
    expect(row.info).toMatchObject({ intentId, card: { brand: 'visa', last4: '4242' } });
    expect(await orderStatus(h, orderId)).toBe('paid');
  });

  it('never trusts the query string: redirect_status=succeeded on an unpaid intent confirms nothing', async () => {
    const { payment, payUrl } = await placeStripeOrder(h);
    const back = await handleReturn(httpRequest(linkParams(payUrl), { query: { redirect_status: 'succeeded', payment_intent: 'pi_forged' } }), h.rt);
    expect(back).toMatchObject({ redirect: expect.stringContaining('/plugins/stripe/pay/') });
    expect((await paymentRow(h, payment.id)).state).toBe('created');
  });

  it('refuses a link with a wrong token, naming the payment, and writes nothing', async () => {
    const { payment, payUrl } = await placeStripeOrder(h);
    const { paymentId } = linkParams(payUrl);
    await expect(handlePayPage(httpRequest({ paymentId, token: 'x'.repeat(32) }), h.rt)).rejects.toMatchObject({ code: 'STRIPE_PAYMENT_LINK_INVALID' });
    await expect(handleReturn(httpRequest({ paymentId, token: 'nope' }), h.rt)).rejects.toBeInstanceOf(KassaError);
    expect((await paymentRow(h, payment.id)).state).toBe('created');
  });

  it('3DS: requires_action leaves the payment open; completing the challenge confirms it', async () => {
    const { payment, intentId, payUrl } = await placeStripeOrder(h);
    const pi = await buyerConfirms(h, intentId, 'pm_card_threeDSecure2Required');
    expect(pi.status).toBe('requires_action');
    const first = await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
    expect(first).toMatchObject({ redirect: expect.stringContaining('/plugins/stripe/pay/') });
    expect((await paymentRow(h, payment.id)).state).toBe('created');
    await fetch(`${h.emulator.url}/_emulator/payment_intents/${intentId}/authenticate`, { method: 'POST', body: new URLSearchParams({ result: 'complete' }) });
    await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
    const row = await paymentRow(h, payment.id);
    expect(row.state).toBe('confirmed');
    expect(row.info.threeDSecure).toBeTruthy();
  });

  it('an abandoned 3DS challenge fails the attempt, so the buyer can retry or switch method', async () => {
    const { payment, intentId, payUrl } = await placeStripeOrder(h);
    await buyerConfirms(h, intentId, 'pm_card_threeDSecure2Required');
    await fetch(`${h.emulator.url}/_emulator/payment_intents/${intentId}/authenticate`, { method: 'POST', body: new URLSearchParams({ result: 'fail' }) });
    const back = await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
    expect(back).toMatchObject({ redirect: expect.stringContaining('/order/') });
    expect((await paymentRow(h, payment.id)).state).toBe('failed');
  });

  it('a declined card, then a retry on the same intent that succeeds', async () => {
    const { orderId, payment, intentId, payUrl } = await placeStripeOrder(h);
    const declined = await buyerConfirms(h, intentId, 'pm_card_chargeDeclined');
    expect(declined.status).toBe('requires_payment_method');
    await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
    expect((await paymentRow(h, payment.id)).state).toBe('failed');
    await buyerConfirms(h, intentId, 'pm_card_visa');
    await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
    expect(await orderStatus(h, orderId)).toBe('paid');
  });

  it('canceling an open attempt cancels its intent at Stripe', async () => {
    const { payment, intentId } = await placeStripeOrder(h);
    await h.core.payments.cancelPayment(payment.id, { type: 'buyer' });
    expect((await h.stripe.paymentIntents.retrieve(intentId)).status).toBe('canceled');
    expect((await paymentRow(h, payment.id)).state).toBe('canceled');
  });

  it('the intent endpoint creates the intent when executePayment could not, once (same idempotency key)', async () => {
    const placed = await h.core.orders.placeOrder({ eventId: h.shop.event.id, email: 'b@example.org', positions: [{ productId: h.shop.product.id }], provider: 'stripe' });
    const payment = placed.payment as { id: string };
    const order = await h.db.dataSource.query('SELECT secret FROM kassa_order WHERE id = $1', [placed.order.id]);
    const { paymentLinkToken } = await import('../../src');
    const params = { paymentId: payment.id, token: paymentLinkToken({ secret: order[0].secret }, payment.id) };
    const first = await handleIntent(httpRequest(params), h.rt) as { body: { clientSecret: string } };
    const second = await handleIntent(httpRequest(params), h.rt) as { body: { clientSecret: string } };
    expect(second.body.clientSecret).toBe(first.body.clientSecret);
    const intentId = first.body.clientSecret.split('_secret_')[0];
    expect((await paymentRow(h, payment.id)).info).toMatchObject({ intentId });
    expect((await h.stripe.paymentIntents.list({ limit: 100 })).data.filter((pi) => pi.metadata.kassa_payment_id === payment.id)).toHaveLength(1);
  });

  it('the pay page of a payment that is no longer open sends the buyer to the order page', async () => {
    const { payment, intentId, payUrl } = await placeStripeOrder(h);
    await buyerConfirms(h, intentId, 'pm_card_visa');
    await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
    expect(await handlePayPage(httpRequest(linkParams(payUrl)), h.rt)).toMatchObject({ redirect: expect.stringContaining('/order/') });
    expect(await handleIntent(httpRequest(linkParams(payUrl)), h.rt)).toMatchObject({ status: 409 });
  });

  it('processing (a SEPA debit): pending until Stripe settles it, then confirmed; a failed debit fails it', async () => {
    for (const [pm, outcome, final] of [['pm_sepaDebit_success_at', 'succeeded', 'confirmed'], ['pm_sepaDebit_fail_at', 'failed', 'failed']] as const) {
      const { payment, intentId, payUrl } = await placeStripeOrder(h);
      const pi = await buyerConfirms(h, intentId, pm);
      expect(pi.status).toBe('processing');
      await handleReturn(httpRequest(linkParams(payUrl)), h.rt);
      expect((await paymentRow(h, payment.id)).state).toBe('pending');
      await fetch(`${h.emulator.url}/_emulator/payment_intents/${intentId}/settle`, { method: 'POST', body: new URLSearchParams({ outcome }) });
      await handleReturn(httpRequest(linkParams(payUrl)), h.rt); // stands for the webhook or the sync job: same reconcile
      expect((await paymentRow(h, payment.id)).state).toBe(final);
    }
  });
});
