import { processEventBatch } from '../../src';
import { handleCreateWebhookEndpoint } from '../../src/routes/control-routes';
import { buyerConfirms, createStripeHarness, httpRequest, paymentRow, placeStripeOrder, refundRows, type StripeHarness } from '../support/stripe-harness';

/*
 * Batches of events may run in any order (two workers, a retry, the sweep): each event re-fetches
 * its object from Stripe and applies it under the payment's lock, so a later batch run first and an
 * earlier one after it leave the payment as running them in order would.
 */
describe('Stripe event batches run out of order', () => {
  let h: StripeHarness;

  beforeAll(async () => {
    h = await createStripeHarness();
    await handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
  });
  afterAll(async () => { await h.destroy(); });

  const inboxIdsOf = async (intentId: string, except: readonly string[] = []) => ((await h.db.dataSource.query(
    'SELECT id FROM stripe_webhook_inbox WHERE intent_id = $1 AND NOT (id = ANY($2::uuid[])) ORDER BY received_at, id', [intentId, except],
  )) as { id: string }[]).map((r) => r.id);

  it('the batch of a later refund processed before the batch of the payment: the payment ends confirmed with the refund recorded', async () => {
    const { payment, intentId } = await placeStripeOrder(h);
    await buyerConfirms(h, intentId, 'pm_card_visa');
    await h.emulator.flushWebhooks();
    const paid = await inboxIdsOf(intentId);
    const re = await h.stripe.refunds.create({ payment_intent: intentId, amount: 700 });
    await h.emulator.flushWebhooks();
    const refunded = await inboxIdsOf(intentId, paid);
    expect(paid.length).toBeGreaterThan(0);
    expect(refunded.length).toBeGreaterThan(0);
    // Nothing processed yet: the harness runs no job by itself.
    expect((await paymentRow(h, payment.id)).state).toBe('created');

    expect((await processEventBatch(h.rt, refunded)).every((o) => o !== null)).toBe(true);
    expect((await processEventBatch(h.rt, paid)).every((o) => o !== null)).toBe(true);
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
    expect(await refundRows(h, payment.id)).toEqual([{ state: 'external', amount: 700, source: 'external', external_id: re.id }]);
  });
});
