import { handleCreateWebhookEndpoint } from '../../src/routes/control-routes';
import { handleReturn } from '../../src/routes/checkout-routes';
import {
  buyerConfirms, createStripeHarness, httpRequest, linkParams, orderStatus, paymentRow, placeStripeOrder, refundRows, type StripeHarness,
} from '../support/stripe-harness';

const control = (h: StripeHarness, path: string, body: Record<string, string> = {}) =>
  fetch(`${h.emulator.url}/_emulator${path}`, { method: 'POST', body: new URLSearchParams(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);

describe('Stripe refunds and disputes: money effects keyed by Stripe object id', () => {
  let h: StripeHarness;
  beforeAll(async () => {
    h = await createStripeHarness({ price: 2500 });
    await handleCreateWebhookEndpoint(httpRequest({}, { organizerId: h.shop.organizer.id, body: {} }), h.rt);
  });
  afterAll(async () => { await h.destroy(); });

  /** A paid order: placed, confirmed by the buyer with `pm`, applied by the return page. */
  async function paid(pm = 'pm_card_visa') {
    const placed = await placeStripeOrder(h);
    await buyerConfirms(h, placed.intentId, pm);
    await handleReturn(httpRequest(linkParams(placed.payUrl)), h.rt);
    await deliver();
    expect((await paymentRow(h, placed.payment.id)).state).toBe('confirmed');
    return placed;
  }
  async function deliver() {
    await h.emulator.flushWebhooks();
    return h.runJobs();
  }
  const chargeOf = async (intentId: string) => String((await h.stripe.paymentIntents.retrieve(intentId)).latest_charge);

  it('executeRefund: a partial refund with our refund row as idempotency key is done, and its webhooks book nothing more', async () => {
    const { orderId, payment, intentId } = await paid();
    const { refund, outcome } = await h.core.refunds.createRefund(orderId, { paymentId: payment.id, amount: { amount: 1000, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    expect(outcome).toMatchObject({ kind: 'done', externalId: expect.stringMatching(/^re_/) });
    const stripeRefunds = await h.stripe.refunds.list({ payment_intent: intentId });
    expect(stripeRefunds.data).toHaveLength(1);
    expect(stripeRefunds.data[0]).toMatchObject({ amount: 1000, metadata: { kassa_refund_id: refund.id } });
    await deliver();
    expect(await refundRows(h, payment.id)).toEqual([{ state: 'done', amount: 1000, source: 'admin', external_id: stripeRefunds.data[0]?.id }]);
  });

  it('a refund that fails later at Stripe becomes failed here, and the refunded payment is confirmed again', async () => {
    const { orderId, payment, intentId } = await paid('pm_card_refundFail');
    await h.core.refunds.createRefund(orderId, { paymentId: payment.id, amount: { amount: 2500, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    await deliver();
    expect((await paymentRow(h, payment.id)).state).toBe('refunded');
    const [re] = (await h.stripe.refunds.list({ payment_intent: intentId })).data;
    await control(h, `/refunds/${re?.id}/fail`);
    await deliver();
    expect((await refundRows(h, payment.id)).map((r) => r.state)).toEqual(['failed']);
    expect((await paymentRow(h, payment.id)).state).toBe('confirmed');
  });

  it('a refund made in the Stripe dashboard becomes one external refund, even when its events arrive several times', async () => {
    const { payment, intentId } = await paid();
    const re = await h.stripe.refunds.create({ payment_intent: intentId, amount: 700 });
    h.emulator.configureWebhooks({ duplicateRate: 1 });
    const outcomes = await deliver();
    h.emulator.configureWebhooks({ duplicateRate: 0 });
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    expect(await refundRows(h, payment.id)).toEqual([{ state: 'external', amount: 700, source: 'external', external_id: re.id }]);
    // Processing everything again (a worker retry, the sweep) changes nothing.
    await h.db.dataSource.query(`UPDATE stripe_webhook_inbox SET processed_at = NULL WHERE intent_id = $1`, [intentId]);
    const ids: { id: string }[] = await h.db.dataSource.query(`SELECT id FROM stripe_webhook_inbox WHERE intent_id = $1`, [intentId]);
    for (const { id } of ids) h.enqueued.push({ job: 'process-event', payload: { inboxId: id } });
    await h.runJobs();
    expect(await refundRows(h, payment.id)).toHaveLength(1);
  });

  it('an inquiry moves no money; the organizer is notified with the due date, and sees it on the payment', async () => {
    const { payment, intentId } = await paid();
    const dispute = await control(h, `/charges/${await chargeOf(intentId)}/dispute`, { kind: 'inquiry' });
    await deliver();
    expect(await refundRows(h, payment.id)).toEqual([]);
    const [row] = await h.db.dataSource.query('SELECT status, refund_id, due_by FROM stripe_dispute WHERE dispute_id = $1', [dispute.id]);
    expect(row).toMatchObject({ status: 'warning_needs_response', refund_id: null });
    expect(row.due_by).toBeInstanceOf(Date);
    const events = await h.db.dataSource.query(`SELECT payload FROM outbox_event WHERE topic = 'stripe.dispute_updated' AND payload->>'disputeId' = $1`, [dispute.id]);
    expect(events).toHaveLength(1);
    expect(events[0].payload).toMatchObject({ status: 'warning_needs_response', inquiry: true, dueBy: expect.any(String) });
    const loaded = await h.core.payments.loadPayment(payment.id);
    const provider = h.loaded.providers.get('stripe');
    const vm = provider.paymentControlRender({ event: loaded.event, settings: {}, clock: h.clock, baseUrl: h.baseUrl }, { order: loaded.order, payment: loaded.payment });
    expect(vm?.data).toMatchObject({ intentId, cardBrand: 'visa', cardLast4: '4242', dispute: { id: dispute.id, status: 'warning_needs_response', dueBy: expect.any(String) } });
  });

  it('a chargeback books one external refund when funds are withdrawn, and cancels it when they are reinstated (won)', async () => {
    const { orderId, payment, intentId } = await paid();
    const dispute = await control(h, `/charges/${await chargeOf(intentId)}/dispute`, { kind: 'chargeback' });
    await deliver();
    expect(await refundRows(h, payment.id)).toEqual([{ state: 'external', amount: 2500, source: 'external', external_id: dispute.id }]);
    await control(h, `/disputes/${dispute.id}/advance`, { to: 'under_review' });
    await deliver();
    expect(await refundRows(h, payment.id)).toHaveLength(1);
    await control(h, `/disputes/${dispute.id}/advance`, { to: 'won' });
    await deliver();
    expect(await refundRows(h, payment.id)).toEqual([{ state: 'canceled', amount: 2500, source: 'external', external_id: dispute.id }]);
    expect(await orderStatus(h, orderId)).toBe('paid');
    const statuses = await h.db.dataSource.query(`SELECT payload->>'status' AS s FROM outbox_event WHERE topic = 'stripe.dispute_updated' AND payload->>'disputeId' = $1 ORDER BY id`, [dispute.id]);
    expect(statuses.map((r: { s: string }) => r.s)).toEqual(['needs_response', 'under_review', 'won']);
  });

  it('a lost chargeback keeps its one external refund', async () => {
    const { payment, intentId } = await paid();
    const dispute = await control(h, `/charges/${await chargeOf(intentId)}/dispute`, { kind: 'chargeback' });
    await control(h, `/disputes/${dispute.id}/advance`, { to: 'lost' });
    await deliver();
    expect(await refundRows(h, payment.id)).toEqual([{ state: 'external', amount: 2500, source: 'external', external_id: dispute.id }]);
  });

  it('a chargeback won before we processed any of its events books nothing at all (never both)', async () => {
    const { payment, intentId } = await paid();
    h.emulator.configureWebhooks({ reorder: 'reverse' });
    const dispute = await control(h, `/charges/${await chargeOf(intentId)}/dispute`, { kind: 'chargeback' });
    await control(h, `/disputes/${dispute.id}/advance`, { to: 'won' });
    await deliver();
    h.emulator.configureWebhooks({ reorder: false });
    expect(await refundRows(h, payment.id)).toEqual([]);
    const [row] = await h.db.dataSource.query('SELECT status, funds_withdrawn, funds_reinstated FROM stripe_dispute WHERE dispute_id = $1', [dispute.id]);
    expect(row).toEqual({ status: 'won', funds_withdrawn: true, funds_reinstated: true });
  });
});
