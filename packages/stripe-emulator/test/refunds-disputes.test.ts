import type Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, withEmulator } from './helpers';

let emu: RunningEmulator;
let stripe: Stripe;
const noRedirects = { automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };

beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(() => emu.close());
beforeEach(() => {
  stripe = stripeFor(emu, freshKey());
});
afterEach(() => expect(emu.errors()).toEqual([]));

const pay = (pm = 'pm_card_visa', extra: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
  stripe.paymentIntents.create({ amount: 10000, currency: 'eur', payment_method: pm, capture_method: 'automatic', confirm: true, ...noRedirects, ...extra });

async function types(): Promise<string[]> {
  return (await stripe.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('refunds (§3)', () => {
  it('partial then full refunds; amount_refunded is cumulative and refunded flips at the end', async () => {
    const pi = await pay();
    const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 3000, reason: 'requested_by_customer' }, { idempotencyKey: 'refund-1' });
    expect(r1).toMatchObject({ status: 'succeeded', amount: 3000, charge: pi.latest_charge, payment_intent: pi.id, reason: 'requested_by_customer' });
    let ch = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(ch).toMatchObject({ amount_refunded: 3000, refunded: false });
    const r2 = await stripe.refunds.create({ charge: ch.id });
    expect(r2.amount).toBe(7000);
    ch = await stripe.charges.retrieve(ch.id);
    expect(ch).toMatchObject({ amount_refunded: 10000, refunded: true });
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({ code: 'charge_already_refunded' });
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    const t = await types();
    expect(t.filter((x) => x === 'refund.created')).toHaveLength(2);
    expect(t.filter((x) => x === 'charge.refunded')).toHaveLength(2);
  });

  it('refuses over-refunds with the unrefunded amount in the message', async () => {
    const pi = await pay();
    await stripe.refunds.create({ payment_intent: pi.id, amount: 6000 });
    await expect(stripe.refunds.create({ payment_intent: pi.id, amount: 5000 })).rejects.toMatchObject({
      statusCode: 400,
      code: 'amount_too_large',
      message: 'Refund amount (5000) is greater than unrefunded amount on charge (4000)',
    });
  });

  it('an uncaptured PI cannot be refunded: 400 telling the caller to cancel', async () => {
    const pi = await pay('pm_card_visa', { capture_method: 'manual' });
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', message: expect.stringContaining('Cancel the PaymentIntent') });
    const fresh = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur' });
    await expect(stripe.refunds.create({ payment_intent: fresh.id })).rejects.toMatchObject({ message: `This PaymentIntent (${fresh.id}) does not have a successful charge to refund.` });
  });

  it('the refund-fail card: refund succeeds, then turns failed and money returns', async () => {
    const pi = await pay('pm_card_refundFail');
    const re = await stripe.refunds.create({ payment_intent: pi.id });
    expect(re.status).toBe('succeeded');
    expect(emu.runPending()).toBeGreaterThan(0);
    const failed = await stripe.refunds.retrieve(re.id);
    expect(failed).toMatchObject({ status: 'failed', failure_reason: 'declined' });
    expect(failed.failure_balance_transaction).toMatch(/^txn_/);
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(ch).toMatchObject({ amount_refunded: 0, refunded: false });
    expect((await types()).slice(-2)).toEqual(['refund.failed', 'refund.updated']);
  });

  it('the async refund card starts pending and later succeeds', async () => {
    // 4000000000007726 has no pm_card alias; type it through raw card data (emulator option) instead.
    const e2 = await withEmulator({ allowRawCardDataWithSecretKey: true });
    try {
      const s = stripeFor(e2, freshKey());
      const p = await s.paymentIntents.create({ amount: 1000, currency: 'eur', confirm: true, ...noRedirects, payment_method_data: { type: 'card', card: { number: '4000000000007726', exp_month: 12, exp_year: 2040, cvc: '123' } } as never });
      const re = await s.refunds.create({ payment_intent: p.id });
      expect(re).toMatchObject({ status: 'pending', pending_reason: 'processing' });
      const ran = await raw(e2, 'POST', '/_emulator/run_pending', 'filter=refund');
      expect(ran.json.ran).toBe(1);
      expect((await s.refunds.retrieve(re.id)).status).toBe('succeeded');
    } finally {
      await e2.close();
    }
  });

  it('raw card numbers are refused with a secret key by default', async () => {
    await expect(
      stripe.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' } }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('unsafe') });
  });

  it('three-decimal refunds must end in 0 too', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 5120, currency: 'kwd', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    await expect(stripe.refunds.create({ payment_intent: pi.id, amount: 1005 })).rejects.toMatchObject({ param: 'amount' });
    expect((await stripe.refunds.create({ payment_intent: pi.id, amount: 1010 })).amount).toBe(1010);
  });

  it('a control can fail a refund later', async () => {
    const pi = await pay();
    const re = await stripe.refunds.create({ payment_intent: pi.id, amount: 100 });
    const res = await raw(emu, 'POST', `/_emulator/refunds/${re.id}/fail`, 'failure_reason=expired_or_canceled_card');
    expect(res.json).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });
  });
});

describe('disputes (§4)', () => {
  it('createDispute card: chargeback, funds withdrawn with the fee, not refundable', async () => {
    const pi = await pay('pm_card_createDispute');
    const list = await stripe.disputes.list({ payment_intent: pi.id });
    expect(list.data).toHaveLength(1);
    const d = list.data[0] as Stripe.Dispute;
    expect(d).toMatchObject({ status: 'needs_response', reason: 'fraudulent', amount: 10000, is_charge_refundable: false, charge: pi.latest_charge });
    expect(d.payment_method_details?.card?.case_type).toBe('chargeback');
    expect(d.balance_transactions).toHaveLength(1);
    expect(d.balance_transactions[0]).toMatchObject({ amount: -10000, fee: 1500, net: -11500 });
    expect((await stripe.charges.retrieve(d.charge as string)).disputed).toBe(true);
    expect((await types()).slice(-2)).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn']);
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({ code: 'charge_disputed' });
  });

  it('winning_evidence wins the chargeback and reinstates the funds', async () => {
    const pi = await pay('pm_card_createDispute');
    const d = (await stripe.disputes.list({ payment_intent: pi.id })).data[0] as Stripe.Dispute;
    const updated = await stripe.disputes.update(d.id, { evidence: { uncategorized_text: 'winning_evidence' } });
    expect(updated.status).toBe('won');
    expect(updated.balance_transactions.map((b) => b.amount)).toEqual([-10000, 10000]);
    expect((await types()).slice(-3)).toEqual(['charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_reinstated']);
    await expect(stripe.disputes.update(d.id, { evidence: { uncategorized_text: 'more' } })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('losing_evidence loses: closed, money stays withdrawn', async () => {
    const pi = await pay('pm_card_createDisputeProductNotReceived');
    const d = (await stripe.disputes.list({ payment_intent: pi.id })).data[0] as Stripe.Dispute;
    expect(d.reason).toBe('product_not_received');
    const lost = await stripe.disputes.update(d.id, { evidence: { uncategorized_text: 'losing_evidence' } });
    expect(lost.status).toBe('lost');
    expect(lost.balance_transactions).toHaveLength(1);
    expect((await types()).slice(-1)).toEqual(['charge.dispute.closed']);
  });

  it('inquiry: no money moves, refundable; escalate_inquiry_evidence turns it into a chargeback', async () => {
    const pi = await pay('pm_card_createDisputeInquiry');
    const d = (await stripe.disputes.list({ payment_intent: pi.id })).data[0] as Stripe.Dispute;
    expect(d).toMatchObject({ status: 'warning_needs_response', is_charge_refundable: true, balance_transactions: [] });
    expect((await types()).slice(-1)).toEqual(['charge.dispute.created']);
    const escalated = await stripe.disputes.update(d.id, { evidence: { uncategorized_text: 'escalate_inquiry_evidence' } });
    expect(escalated).toMatchObject({ status: 'needs_response', is_charge_refundable: false });
    expect(escalated.balance_transactions).toHaveLength(1);
    expect((await types()).slice(-1)).toEqual(['charge.dispute.funds_withdrawn']);
  });

  it('an inquiry closes as warning_closed and stays refundable meanwhile', async () => {
    const pi = await pay('pm_card_createDisputeInquiry');
    const d = (await stripe.disputes.list({ payment_intent: pi.id })).data[0] as Stripe.Dispute;
    expect((await stripe.refunds.create({ payment_intent: pi.id, amount: 100 })).status).toBe('succeeded');
    const closed = await stripe.disputes.update(d.id, { evidence: { uncategorized_text: 'losing_evidence' } });
    expect(closed.status).toBe('warning_closed');
  });

  it('close accepts the loss; submit=false stages evidence without submitting', async () => {
    const pi = await pay('pm_card_createDispute');
    const d = (await stripe.disputes.list({ payment_intent: pi.id })).data[0] as Stripe.Dispute;
    const staged = await stripe.disputes.update(d.id, { evidence: { customer_name: 'Ada' }, submit: false });
    expect(staged).toMatchObject({ status: 'needs_response' });
    expect(staged.evidence_details.has_evidence).toBe(true);
    expect((await stripe.disputes.close(d.id)).status).toBe('lost');
  });

  it('controls create disputes on any charge and advance them', async () => {
    const pi = await pay();
    const created = await raw(emu, 'POST', `/_emulator/charges/${pi.latest_charge}/dispute`, 'kind=chargeback&reason=duplicate&amount=2500');
    expect(created.json).toMatchObject({ status: 'needs_response', amount: 2500, reason: 'duplicate' });
    const review = await raw(emu, 'POST', `/_emulator/disputes/${created.json.id}/advance`, 'to=under_review');
    expect(review.json.status).toBe('under_review');
    const won = await raw(emu, 'POST', `/_emulator/disputes/${created.json.id}/advance`, 'to=won');
    expect(won.json.status).toBe('won');
    const again = await raw(emu, 'POST', `/_emulator/disputes/${created.json.id}/advance`, 'to=lost');
    expect(again.status).toBe(400);
  });

  it('a delayed evidence resolution can be run on demand', async () => {
    const e2 = await withEmulator({ delays: { disputeEvidenceResolutionMs: 60_000 } });
    try {
      const s = stripeFor(e2, freshKey());
      const pi = await s.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_createDispute', confirm: true, ...noRedirects });
      const d = (await s.disputes.list({ payment_intent: pi.id })).data[0] as Stripe.Dispute;
      expect((await s.disputes.update(d.id, { evidence: { uncategorized_text: 'winning_evidence' } })).status).toBe('under_review');
      e2.runPending();
      expect((await s.disputes.retrieve(d.id)).status).toBe('won');
    } finally {
      await e2.close();
    }
  });
});
