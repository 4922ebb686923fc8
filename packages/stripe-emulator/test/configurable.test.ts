import type Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, withEmulator } from './helpers';

/** The §13 (unverified / contested) behaviours, switched to their non-default variants. */
let emu: RunningEmulator;
let key: string;
let stripe: Stripe;
const noRedirects = { automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };

beforeAll(async () => {
  emu = await withEmulator({
    seed: 7,
    errorCodes: { refundUncaptured: 'charge_not_capturable' as string, threeDecimalLastDigit: null },
    threeDecimalLastDigitZero: true,
    redirectStatus: { succeeded: 'completed', failed: 'declined' },
    idempotentReplayedHeader: false,
    platformEventsIncludeConnected: true,
    wonDisputeReturnsFee: true,
    minimumAmounts: { eur: 100 },
    enforceEndiveRemovals: false,
  });
});
afterAll(() => emu.close());
beforeEach(() => {
  key = freshKey();
  stripe = stripeFor(emu, key);
});
afterEach(() => expect(emu.errors()).toEqual([]));

it('error codes for an uncaptured refund and three-decimal amounts follow the options', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
  await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({ code: 'charge_not_capturable' });
  const err = await stripe.paymentIntents.create({ amount: 5125, currency: 'bhd' }).catch((e) => e);
  expect(err.param).toBe('amount');
  expect(err.code).toBeUndefined();
});

it('custom minimum amounts apply', async () => {
  await expect(stripe.paymentIntents.create({ amount: 99, currency: 'eur' })).rejects.toMatchObject({ code: 'amount_too_small', message: 'Amount must be at least 1.00 EUR' });
});

it('redirect_status values come from the options', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://shop.test/r' });
  const done = await raw(emu, 'POST', `/_emulator/3ds/${pi.id}/complete`, 'mode=redirect');
  expect(new URL(done.headers.location as string).searchParams.get('redirect_status')).toBe('completed');
  const pi2 = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://shop.test/r' });
  const failed = await raw(emu, 'POST', `/_emulator/3ds/${pi2.id}/fail`, 'mode=redirect');
  expect(new URL(failed.headers.location as string).searchParams.get('redirect_status')).toBe('declined');
});

it('replays can go without the Idempotent-Replayed header', async () => {
  const a = await raw(emu, 'POST', '/v1/customers', 'email=x%40y.z', { Authorization: `Bearer ${key}`, 'Idempotency-Key': 'k' });
  const b = await raw(emu, 'POST', '/v1/customers', 'email=x%40y.z', { Authorization: `Bearer ${key}`, 'Idempotency-Key': 'k' });
  expect(b.text).toBe(a.text);
  expect(b.headers['idempotent-replayed']).toBeUndefined();
});

it('the platform event list can include connected-account events', async () => {
  const acct = await stripe.accounts.create({ type: 'express' });
  await stripe.customers.create({}, { stripeAccount: acct.id });
  const events = await stripe.events.list({ type: 'customer.created' });
  expect(events.data.map((e) => e.account)).toEqual([acct.id]);
});

it('a won dispute can return the dispute fee', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_createDispute', confirm: true, ...noRedirects });
  const d = (await stripe.disputes.list({ payment_intent: pi.id })).data[0] as Stripe.Dispute;
  const won = await stripe.disputes.update(d.id, { evidence: { uncategorized_text: 'winning_evidence' } });
  expect(won.balance_transactions.map((t) => t.net)).toEqual([-2500, 2500]);
});

it('payment_method_types stays accepted on endive when the removal is not enforced', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_types: ['card'] } as never);
  expect(pi.payment_method_types).toEqual(['card']);
});

it('a seed makes ids repeat from run to run', async () => {
  const a = await withEmulator({ seed: 99 });
  const b = await withEmulator({ seed: 99 });
  try {
    const idA = (await stripeFor(a, 'sk_test_same').customers.create()).id;
    const idB = (await stripeFor(b, 'sk_test_same').customers.create()).id;
    expect(idA).toBe(idB);
  } finally {
    await a.close();
    await b.close();
  }
});
