import { handleCapture, handleRelease } from '../../src/routes/control-routes';
import { handleReturn } from '../../src/routes/checkout-routes';
import { pollAccountEvents, syncStuckPayments } from '../../src/jobs/stripe-jobs';
import {
  buyerConfirms, createStripeHarness, httpRequest, linkParams, orderStatus, paymentRow, placeStripeOrder, type StripeHarness,
} from '../support/stripe-harness';
import { handlePayPage } from '../../src/routes/checkout-routes';

describe('Stripe manual capture, expiry, polling and the sync job', () => {
  let h: StripeHarness;
  beforeAll(async () => { h = await createStripeHarness({ captureMethod: 'manual', price: 5000 }); });
  afterAll(async () => { await h.destroy(); });

  async function authorized() {
    const placed = await placeStripeOrder(h);
    await buyerConfirms(h, placed.intentId, 'pm_card_visa');
    await handleReturn(httpRequest(linkParams(placed.payUrl)), h.rt);
    return placed;
  }
  const asOrganizer = (paymentId: string, body: Record<string, unknown> = {}) => httpRequest({ paymentId }, { organizerId: h.shop.organizer.id, body });

  it('authorizes at checkout (payment pending, order not paid), then captures the full amount', async () => {
    const { orderId, payment, intentId } = await authorized();
    expect((await h.stripe.paymentIntents.retrieve(intentId)).capture_method).toBe('manual');
    expect((await paymentRow(h, payment.id)).state).toBe('pending');
    expect(await orderStatus(h, orderId)).toBe('pending');
    const res = await handleCapture(asOrganizer(payment.id), h.rt);
    expect(res).toMatchObject({ status: 200, body: { status: 'succeeded' } });
    expect(await paymentRow(h, payment.id)).toMatchObject({ state: 'confirmed', amount: 5000 });
    expect(await orderStatus(h, orderId)).toBe('paid');
  });

  it('a partial capture confirms the payment for the captured amount only (the rest is released)', async () => {
    const { orderId, payment, intentId } = await authorized();
    await handleCapture(asOrganizer(payment.id, { amount: '3000' }), h.rt);
    expect((await h.stripe.paymentIntents.retrieve(intentId)).amount_received).toBe(3000);
    expect(await paymentRow(h, payment.id)).toMatchObject({ state: 'confirmed', amount: 3000 });
    expect(await orderStatus(h, orderId)).toBe('pending');
    // Through core, with its audit entry: authorized 5000, captured 3000.
    const [logged] = await h.db.dataSource.query(`SELECT data FROM log_entry WHERE object_id = $1 AND action = 'kassa.order.payment.amount_reduced'`, [payment.id]);
    expect(logged.data).toMatchObject({ from: 5000, to: 3000, reason: 'partial capture' });
  });

  it('refuses a capture above the authorization, or by another organizer, and changes nothing', async () => {
    const { payment } = await authorized();
    await expect(handleCapture(asOrganizer(payment.id, { amount: 5001 }), h.rt)).rejects.toMatchObject({ code: 'STRIPE_CAPTURE_NOT_ALLOWED' });
    await expect(handleCapture(asOrganizer(payment.id, { amount: -5 }), h.rt)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(handleCapture(httpRequest({ paymentId: payment.id }, { organizerId: '00000000-0000-4000-8000-000000000000' }), h.rt)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await paymentRow(h, payment.id)).state).toBe('pending');
  });

  it('releases an authorization: the intent is canceled and the payment no longer counts', async () => {
    const { payment, intentId } = await authorized();
    const res = await handleRelease(asOrganizer(payment.id), h.rt);
    expect(res).toMatchObject({ status: 200, body: { status: 'canceled' } });
    expect((await h.stripe.paymentIntents.retrieve(intentId)).status).toBe('canceled');
    expect((await paymentRow(h, payment.id)).state).toBe('failed');
  });

  it('an expired authorization is found by the sync job: the payment fails with the reason', async () => {
    const { payment, intentId } = await authorized();
    await fetch(`${h.emulator.url}/_emulator/payment_intents/${intentId}/expire`, { method: 'POST' });
    await h.db.dataSource.query(`UPDATE order_payment SET created_at = now() - interval '1 hour' WHERE id = $1`, [payment.id]);
    expect(await syncStuckPayments(h.rt, 10 * 60_000)).toBeGreaterThanOrEqual(1);
    const row = await paymentRow(h, payment.id);
    expect(row.state).toBe('failed');
    expect(row.info).toMatchObject({ cancellationReason: 'expired' });
  });

  it('the sync job applies a payment whose buyer paid and closed the tab before the return page', async () => {
    const placed = await placeStripeOrder(h);
    await handlePayPage(httpRequest(linkParams(placed.payUrl)), h.rt); // the buyer opened the pay page …
    await buyerConfirms(h, placed.intentId, 'pm_card_visa'); // … paid, and closed the tab.
    await h.db.dataSource.query(`UPDATE order_payment SET created_at = now() - interval '1 hour' WHERE id = $1`, [placed.payment.id]);
    await syncStuckPayments(h.rt, 10 * 60_000);
    expect((await paymentRow(h, placed.payment.id)).state).toBe('pending'); // authorized (manual capture)
  });

  it('polling (no webhook secret) feeds new events through the same pipeline, each once', async () => {
    const placed = await placeStripeOrder(h);
    await handlePayPage(httpRequest(linkParams(placed.payUrl)), h.rt);
    await buyerConfirms(h, placed.intentId, 'pm_card_visa');
    const [acct] = await h.db.dataSource.query('SELECT account_id FROM stripe_account');
    const first = await pollAccountEvents(h.rt, acct.account_id);
    expect(first.stored).toBeGreaterThan(0);
    expect((await paymentRow(h, placed.payment.id)).state).toBe('pending');
    const second = await pollAccountEvents(h.rt, acct.account_id);
    expect(second.stored).toBe(0);
    const polled = await h.db.dataSource.query(`SELECT count(*)::int AS n FROM stripe_webhook_inbox WHERE source = 'poll' AND processed_at IS NULL`);
    expect(polled[0].n).toBe(0);
  });

  it('shredding keeps the intent id and removes card and billing details', async () => {
    const { orderId, payment, intentId } = await authorized();
    await h.core.orders.shredOrder(orderId, { type: 'system' });
    const row = await paymentRow(h, payment.id);
    expect(row.info).toMatchObject({ intentId, _shredded: true });
    expect(row.info.card).toBeUndefined();
    expect(row.info.billing).toBeUndefined();
    // A late event for a shredded payment does not bring the card back.
    await h.db.dataSource.query(`UPDATE order_payment SET created_at = now() - interval '1 hour' WHERE id = $1`, [payment.id]);
    await syncStuckPayments(h.rt, 10 * 60_000);
    expect((await paymentRow(h, payment.id)).info.card).toBeUndefined();
  });
});
