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

async function eventTypes(s: Stripe = stripe): Promise<string[]> {
  const list = await s.events.list({ limit: 100 });
  return list.data.map((e) => e.type).reverse();
}

describe('PaymentIntents: create and confirm', () => {
  it('creates in requires_payment_method with endive defaults and a client secret', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1999, currency: 'EUR', metadata: { order: 'ORD-1' } });
    expect(pi.status).toBe('requires_payment_method');
    expect(pi.currency).toBe('eur');
    expect(pi.capture_method).toBe('automatic_async');
    expect(pi.automatic_payment_methods).toEqual({ enabled: true, allow_redirects: 'always' });
    expect(pi.client_secret?.split('_secret_')[0]).toBe(pi.id);
    expect(pi.metadata).toEqual({ order: 'ORD-1' });
    expect(pi.latest_charge).toBeNull();
    expect(await eventTypes()).toEqual(['payment_intent.created']);
  });

  it('with a payment method but no confirm it waits in requires_confirmation', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa' });
    expect(pi.status).toBe('requires_confirmation');
    expect(pi.payment_method).toMatch(/^pm_/);
    const confirmed = await stripe.paymentIntents.confirm(pi.id, { return_url: 'https://shop.test/return' });
    expect(confirmed.status).toBe('succeeded');
  });

  it('automatic_async success: charge captured, balance transaction arrives later with charge.updated', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    expect(pi.status).toBe('succeeded');
    expect(pi.amount_received).toBe(1000);
    expect(pi.amount_capturable).toBe(0);
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ status: 'succeeded', captured: true, amount_captured: 1000, payment_intent: pi.id });
    emu.runPending();
    const later = await stripe.charges.retrieve(charge.id);
    expect(later.balance_transaction).toMatch(/^txn_/);
    expect(await eventTypes()).toEqual(['payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded', 'charge.updated']);
  });

  it('automatic (sync) capture has the balance transaction at once', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_mastercard', capture_method: 'automatic', confirm: true, ...noRedirects });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge.balance_transaction).toMatch(/^txn_/);
    expect(charge.payment_method_details?.card?.brand).toBe('mastercard');
  });

  it('expands latest_charge and payment_method', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    const expanded = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge', 'payment_method'] });
    expect((expanded.latest_charge as Stripe.Charge).object).toBe('charge');
    expect((expanded.payment_method as Stripe.PaymentMethod).card?.last4).toBe('4242');
  });

  it('requires a return_url for server-side confirms while redirects are allowed', async () => {
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true })).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      param: 'return_url',
      message: expect.stringContaining('you must provide a `return_url`'),
    });
  });

  it('confirm-only parameters are refused without confirm=true', async () => {
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', off_session: true })).rejects.toMatchObject({ statusCode: 400, param: 'off_session' });
  });

  it('automatic_payment_methods and confirmation_method are exclusive', async () => {
    await expect(
      stripe.paymentIntents.create({ amount: 1000, currency: 'eur', confirmation_method: 'manual', automatic_payment_methods: { enabled: true } }),
    ).rejects.toMatchObject({ code: 'parameters_exclusive' });
  });
});

describe('PaymentIntents: declines', () => {
  it.each([
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_visa_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error'],
  ])('%s → 402 %s/%s, PI back to requires_payment_method with last_payment_error', async (pm, code, declineCode) => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', ...noRedirects });
    const err = await stripe.paymentIntents.confirm(pi.id, { payment_method: pm }).catch((e: Stripe.errors.StripeError) => e);
    expect(err).toMatchObject({ type: 'StripeCardError', statusCode: 402, code, decline_code: declineCode });
    const raw = (err as Stripe.errors.StripeCardError).payment_intent as Stripe.PaymentIntent;
    expect(raw.status).toBe('requires_payment_method');
    expect(raw.last_payment_error?.code).toBe(code);
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe('requires_payment_method');
    expect(after.payment_method).toBeNull();
    const charge = await stripe.charges.retrieve(after.latest_charge as string);
    expect(charge).toMatchObject({ status: 'failed', failure_code: code, paid: false });
    expect(await eventTypes()).toEqual(['payment_intent.created', 'charge.failed', 'payment_intent.payment_failed']);
  });

  it('a declined PI can be retried with another card; each attempt keeps its own charge', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', ...noRedirects });
    await expect(stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_chargeDeclined' })).rejects.toMatchObject({ code: 'card_declined' });
    const ok = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    expect(ok.status).toBe('succeeded');
    expect(ok.last_payment_error).toBeNull();
    const charges = await stripe.charges.list({ payment_intent: pi.id });
    expect(charges.data.map((c) => c.status)).toEqual(['succeeded', 'failed']);
  });

  it('the 0341 card attaches to a customer but declines when charged', async () => {
    const customer = await stripe.customers.create({ email: 'a@example.com' });
    const pm = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    expect(pm.customer).toBe(customer.id);
    await expect(
      stripe.paymentIntents.create({ amount: 1000, currency: 'eur', customer: customer.id, payment_method: pm.id, confirm: true, ...noRedirects }),
    ).rejects.toMatchObject({ code: 'card_declined' });
  });
});

describe('PaymentIntents: manual capture and cancel', () => {
  it('authorizes, then captures partially; the remainder is released', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 5000, currency: 'eur', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    expect(pi.status).toBe('requires_capture');
    expect(pi.amount_capturable).toBe(5000);
    const captured = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 3000 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 3000, amount_capturable: 0 });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ captured: true, amount: 5000, amount_captured: 3000, amount_refunded: 0, refunded: false });
    expect(await eventTypes()).toEqual(['payment_intent.created', 'charge.succeeded', 'payment_intent.amount_capturable_updated', 'charge.captured', 'payment_intent.succeeded']);
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data).toHaveLength(0); // basil+: no refund for the release
  });

  it('refuses to capture more than authorized, or twice', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    await expect(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 1001 })).rejects.toMatchObject({ code: 'amount_too_large', param: 'amount_to_capture' });
    await stripe.paymentIntents.capture(pi.id);
    await expect(stripe.paymentIntents.capture(pi.id)).rejects.toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
  });

  it('cancels an authorization without refunds; later operations fail', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    const canceled = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'requested_by_customer' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer', amount_capturable: 0 });
    expect(canceled.canceled_at).toEqual(expect.any(Number));
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 0, refunded: false, amount_captured: 0 });
    await expect(stripe.paymentIntents.cancel(pi.id)).rejects.toMatchObject({ code: 'payment_intent_unexpected_state' });
    await expect(stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' })).rejects.toMatchObject({ code: 'payment_intent_unexpected_state' });
    expect((await eventTypes()).slice(-1)).toEqual(['payment_intent.canceled']);
  });

  it('rejects an unknown cancellation_reason', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur' });
    await expect(stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'expired' as never })).rejects.toMatchObject({ param: 'cancellation_reason' });
  });

  it('an expired authorization is canceled with reason expired (basil+) and charge.expired', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    const res = await raw(emu, 'POST', `/_emulator/payment_intents/${pi.id}/expire`, '');
    expect(res.status).toBe(200);
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after).toMatchObject({ status: 'canceled', cancellation_reason: 'expired' });
    expect((await eventTypes()).slice(-2)).toEqual(['charge.expired', 'payment_intent.canceled']);
    await expect(stripe.paymentIntents.capture(pi.id)).rejects.toMatchObject({ code: 'payment_intent_unexpected_state' });
  });

  it('older API versions get cancellation_reason automatic on expiry', async () => {
    const old = stripeFor(emu, freshKey(), { apiVersion: '2024-06-20' });
    const pi = await old.paymentIntents.create({ amount: 1000, currency: 'eur', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true, payment_method_types: ['card'] } as never);
    await raw(emu, 'POST', `/_emulator/payment_intents/${pi.id}/expire`, '', { 'Stripe-Version': '2024-06-20' });
    expect((await old.paymentIntents.retrieve(pi.id)).cancellation_reason).toBe('automatic');
  });
});

describe('PaymentIntents: 3D Secure and off-session', () => {
  it('requires_action with redirect_to_url to the emulator challenge; completing succeeds', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://shop.test/return?order=7' });
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action?.type).toBe('redirect_to_url');
    const url = pi.next_action?.redirect_to_url?.url as string;
    expect(url).toBe(`${emu.url}/_emulator/3ds/${pi.id}`);
    const page = await raw(emu, 'GET', new URL(url).pathname);
    expect(page.text).toContain('Complete authentication');
    const done = await raw(emu, 'POST', `/_emulator/3ds/${pi.id}/complete`, 'mode=redirect');
    expect(done.status).toBe(302);
    const back = new URL(done.headers.location as string);
    expect(back.origin + back.pathname).toBe('https://shop.test/return');
    expect(Object.fromEntries(back.searchParams)).toEqual({ order: '7', payment_intent: pi.id, payment_intent_client_secret: pi.client_secret, redirect_status: 'succeeded' });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect((await eventTypes()).slice(0, 4)).toEqual(['payment_intent.created', 'payment_intent.requires_action', 'charge.succeeded', 'payment_intent.succeeded']);
  });

  it('failing the challenge returns the PI to requires_payment_method with payment_intent_authentication_failure', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_authenticationRequired', confirm: true, use_stripe_sdk: true, ...noRedirects });
    expect(pi.next_action?.type).toBe('use_stripe_sdk');
    const res = await raw(emu, 'POST', `/_emulator/3ds/${pi.id}/fail`, '');
    expect(res.json.status).toBe('requires_payment_method');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.last_payment_error?.code).toBe('payment_intent_authentication_failure');
    expect(after.latest_charge).toBeNull();
    expect((await eventTypes()).slice(-1)).toEqual(['payment_intent.payment_failed']);
  });

  it('3DS then decline: authentication passes but the charge fails', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_threeDSecureRequiredChargeDeclined', confirm: true, ...noRedirects });
    await raw(emu, 'POST', `/_emulator/3ds/${pi.id}/complete`, '');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_payment_error?.code).toBe('card_declined');
  });

  it('manual confirmation: after 3DS the PI needs a server confirm again', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', confirmation_method: 'manual', payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://shop.test/r' });
    expect(pi.status).toBe('requires_action');
    await raw(emu, 'POST', `/_emulator/3ds/${pi.id}/complete`, '');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_confirmation');
    expect((await stripe.paymentIntents.confirm(pi.id, { return_url: 'https://shop.test/r' })).status).toBe('succeeded');
  });

  it('error_on_requires_action fails instead of entering requires_action', async () => {
    await expect(
      stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_threeDSecure2Required', confirm: true, error_on_requires_action: true, ...noRedirects }),
    ).rejects.toMatchObject({ statusCode: 402, code: 'authentication_required' });
  });

  it('off-session: "always authenticate" fails with authentication_required even after setup', async () => {
    const customer = await stripe.customers.create();
    const si = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_authenticationRequired', confirm: true, ...noRedirects });
    expect(si.status).toBe('requires_action');
    await raw(emu, 'POST', `/_emulator/3ds/${si.id}/complete`, '');
    const pmId = (await stripe.setupIntents.retrieve(si.id)).payment_method as string;
    const err = await stripe.paymentIntents
      .create({ amount: 1000, currency: 'eur', customer: customer.id, payment_method: pmId, off_session: true, confirm: true, ...noRedirects }, { idempotencyKey: 'offsession-1' })
      .catch((e: Stripe.errors.StripeError) => e);
    expect(err).toMatchObject({ statusCode: 402, code: 'authentication_required', decline_code: 'authentication_required' });
    const pi = (err as Stripe.errors.StripeCardError).payment_intent as Stripe.PaymentIntent;
    expect(pi.status).toBe('requires_payment_method');
  });

  it('off-session: "authenticate unless set up" succeeds after a SetupIntent and fails without one', async () => {
    const customer = await stripe.customers.create();
    const bare = await stripe.paymentMethods.attach('pm_card_authenticationRequiredOnSetup', { customer: customer.id });
    await expect(
      stripe.paymentIntents.create({ amount: 1000, currency: 'eur', customer: customer.id, payment_method: bare.id, off_session: true, confirm: true, ...noRedirects }),
    ).rejects.toMatchObject({ code: 'authentication_required' });
    const si = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true, ...noRedirects });
    await raw(emu, 'POST', `/_emulator/3ds/${si.id}/complete`, '');
    const pmId = (await stripe.setupIntents.retrieve(si.id)).payment_method as string;
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', customer: customer.id, payment_method: pmId, off_session: true, confirm: true, ...noRedirects });
    expect(pi.status).toBe('succeeded');
  });

  it('setup_future_usage attaches the PM to the customer after success', async () => {
    const customer = await stripe.customers.create();
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', customer: customer.id, setup_future_usage: 'off_session', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    const pms = await stripe.customers.listPaymentMethods(customer.id);
    expect(pms.data.map((p) => p.id)).toEqual([pi.payment_method]);
  });
});

describe('PaymentIntents: rules on payment methods and updates', () => {
  it('a PM used once without a customer cannot be reused', async () => {
    const pm = await stripe.paymentMethods.retrieve('pm_card_visa');
    await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: pm.id, confirm: true, ...noRedirects });
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: pm.id, confirm: true, ...noRedirects })).rejects.toMatchObject({
      message: expect.stringContaining('may not be used again'),
    });
  });

  it("a customer's PM needs that customer on the PI", async () => {
    const customer = await stripe.customers.create();
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: pm.id, confirm: true, ...noRedirects })).rejects.toMatchObject({
      message: expect.stringContaining(`belongs to the Customer ${customer.id}`),
    });
  });

  it('update clears last_payment_error, and a new amount needs a new confirm', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', ...noRedirects });
    await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_chargeDeclined' }).catch(() => undefined);
    const updated = await stripe.paymentIntents.update(pi.id, { amount: 1500, payment_method: 'pm_card_visa', metadata: { a: 'b' } });
    expect(updated).toMatchObject({ amount: 1500, last_payment_error: null, status: 'requires_confirmation', metadata: { a: 'b' } });
    const cleared = await stripe.paymentIntents.update(pi.id, { metadata: { a: '' } });
    expect(cleared.metadata).toEqual({});
  });

  it('amount cannot change after success, metadata can', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    await expect(stripe.paymentIntents.update(pi.id, { amount: 2000 })).rejects.toMatchObject({ code: 'payment_intent_unexpected_state', param: 'amount' });
    expect((await stripe.paymentIntents.update(pi.id, { metadata: { note: 'x' } })).metadata).toEqual({ note: 'x' });
  });

  it('lists newest first with pagination and customer filter', async () => {
    const customer = await stripe.customers.create();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await stripe.paymentIntents.create({ amount: 1000 + i, currency: 'eur', customer: customer.id })).id);
    await stripe.paymentIntents.create({ amount: 5000, currency: 'eur' });
    const page1 = await stripe.paymentIntents.list({ customer: customer.id, limit: 2 });
    expect(page1.data.map((p) => p.id)).toEqual([ids[2], ids[1]]);
    expect(page1.has_more).toBe(true);
    const page2 = await stripe.paymentIntents.list({ customer: customer.id, limit: 2, starting_after: ids[1] });
    expect(page2.data.map((p) => p.id)).toEqual([ids[0]]);
    expect(page2.has_more).toBe(false);
    const all: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ limit: 1 })) all.push(pi.id);
    expect(all).toHaveLength(4);
  });

  it('publishable keys see a restricted PI and only with its client secret', async () => {
    const key = freshKey();
    const s = stripeFor(emu, key);
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'eur', metadata: { secret: 'internal' } });
    const pk = emu.keysFor(key).publishableKey;
    const bad = await raw(emu, 'GET', `/v1/payment_intents/${pi.id}`, undefined, { Authorization: `Bearer ${pk}` });
    expect(bad.status).toBe(400);
    const ok = await raw(emu, 'GET', `/v1/payment_intents/${pi.id}?client_secret=${pi.client_secret}`, undefined, { Authorization: `Bearer ${pk}` });
    expect(ok.status).toBe(200);
    expect(ok.json.status).toBe('requires_payment_method');
    expect(ok.json.metadata).toBeUndefined();
    const create = await raw(emu, 'POST', '/v1/payment_intents', 'amount=1000&currency=eur', { Authorization: `Bearer ${pk}` });
    expect(create.status).toBe(401);
    expect(create.json.error.code).toBe('secret_key_required');
  });
});

describe('PaymentIntents: browser-facing details', () => {
  it('a decline seen by a publishable key carries only the restricted PI', async () => {
    const key = freshKey();
    const s = stripeFor(emu, key);
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'eur', metadata: { internal: 'yes' } });
    const pk = emu.keysFor(key).publishableKey;
    const res = await raw(emu, 'POST', `/v1/payment_intents/${pi.id}/confirm`, `client_secret=${pi.client_secret}&payment_method=pm_card_chargeDeclined`, { Authorization: `Bearer ${pk}` });
    expect(res.status).toBe(402);
    expect(res.json.error.payment_intent).toMatchObject({ id: pi.id, status: 'requires_payment_method' });
    expect(res.json.error.payment_intent.metadata).toBeUndefined();
  });

  it('a publishable-key confirm asks for use_stripe_sdk and returns a PI awaiting action as is', async () => {
    const key = freshKey();
    const s = stripeFor(emu, key);
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'eur' });
    const pk = emu.keysFor(key).publishableKey;
    const first = await raw(emu, 'POST', `/v1/payment_intents/${pi.id}/confirm`, `client_secret=${pi.client_secret}&payment_method=pm_card_threeDSecure2Required`, { Authorization: `Bearer ${pk}` });
    expect(first.json.next_action).toMatchObject({ type: 'use_stripe_sdk', use_stripe_sdk: { stripe_js: `${emu.url}/_emulator/3ds/${pi.id}` } });
    const again = await raw(emu, 'POST', `/v1/payment_intents/${pi.id}/confirm`, `client_secret=${pi.client_secret}`, { Authorization: `Bearer ${pk}` });
    expect(again.json.status).toBe('requires_action');
  });

  it('expands inside lists', async () => {
    await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
    const list = await stripe.paymentIntents.list({ expand: ['data.latest_charge'] });
    expect((list.data[0]?.latest_charge as Stripe.Charge).object).toBe('charge');
    await expect(stripe.paymentIntents.list({ expand: ['data.nope'] })).rejects.toMatchObject({ param: 'expand' });
  });
});

describe('time (injected clock and /_emulator/clock/advance)', () => {
  it('authorizations expire after the 7-day window when the clock moves', async () => {
    const e2 = await withEmulator();
    try {
      const s = stripeFor(e2, freshKey());
      const pi = await s.paymentIntents.create({ amount: 1000, currency: 'eur', capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true, ...noRedirects });
      expect(e2.advanceClock(6 * 86400).expired_authorizations).toEqual([]);
      expect((await s.paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
      const res = await raw(e2, 'POST', '/_emulator/clock/advance', `seconds=${86400}`);
      expect(res.json.expired_authorizations).toEqual([pi.id]);
      const after = await s.paymentIntents.retrieve(pi.id);
      expect(after).toMatchObject({ status: 'canceled', cancellation_reason: 'expired' });
      expect(after.canceled_at).toBeGreaterThanOrEqual(pi.created + 7 * 86400);
    } finally {
      await e2.close();
    }
  });

  it('uses the injected clock for timestamps, and unanswered chargebacks are lost after due_by', async () => {
    let now = Date.UTC(2030, 0, 1);
    const e2 = await withEmulator({ now: () => now });
    try {
      const s = stripeFor(e2, freshKey());
      const pi = await s.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_createDispute', confirm: true, ...noRedirects });
      expect(pi.created).toBe(Date.UTC(2030, 0, 1) / 1000);
      const d = (await s.disputes.list()).data[0] as Stripe.Dispute;
      now += 8 * 86400 * 1000;
      e2.advanceClock(0);
      const lost = await s.disputes.retrieve(d.id);
      expect(lost).toMatchObject({ status: 'lost', evidence_details: { past_due: true } });
    } finally {
      await e2.close();
    }
  });
});

describe('payment_method_options[card]', () => {
  it('capture_method=manual on the card overrides the PI capture method', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, payment_method_options: { card: { capture_method: 'manual' } }, ...noRedirects });
    expect(pi.status).toBe('requires_capture');
    const captured = await stripe.paymentIntents.capture(pi.id);
    expect(captured.status).toBe('succeeded');
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).balance_transaction).toMatch(/^txn_/);
  });

  it('request_three_d_secure=any sends a frictionless card through the challenge', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, payment_method_options: { card: { request_three_d_secure: 'any' } }, ...noRedirects });
    expect(pi.status).toBe('requires_action');
    await raw(emu, 'POST', `/_emulator/3ds/${pi.id}/complete`, '');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', payment_method_options: { card: { request_three_d_secure: 'sometimes' as never } } })).rejects.toMatchObject({
      param: 'payment_method_options[card][request_three_d_secure]',
    });
  });
});

describe('SEPA Direct Debit: processing (§1.2, §10.6)', () => {
  it('a debit waits in processing with a pending charge, then succeeds', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 2000, currency: 'eur', payment_method: 'pm_sepaDebit_success_at', confirm: true, ...noRedirects });
    expect(pi.status).toBe('processing');
    expect(pi.payment_method_types).toEqual(['card', 'sepa_debit']);
    const pending = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(pending).toMatchObject({ status: 'pending', paid: false, payment_method_details: { type: 'sepa_debit', sepa_debit: { last4: '3201', country: 'AT' } } });
    await expect(stripe.paymentIntents.cancel(pi.id)).rejects.toMatchObject({ code: 'payment_intent_unexpected_state' });
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({ statusCode: 400 });
    expect(emu.runPending()).toBeGreaterThan(0);
    const done = await stripe.paymentIntents.retrieve(pi.id);
    expect(done).toMatchObject({ status: 'succeeded', amount_received: 2000 });
    expect((await eventTypes()).slice(0, 5)).toEqual(['payment_intent.created', 'payment_intent.processing', 'charge.pending', 'charge.succeeded', 'payment_intent.succeeded']);
  });

  it('a returned debit goes back to requires_payment_method', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 2000, currency: 'eur', confirm: true, ...noRedirects,
      payment_method_data: { type: 'sepa_debit', sepa_debit: { iban: 'AT86 1904 3002 3547 3202' }, billing_details: { name: 'Ada', email: 'ada@example.com' } },
    });
    expect(pi.status).toBe('processing');
    await raw(emu, 'POST', '/_emulator/run_pending', 'filter=debit');
    const failed = await stripe.paymentIntents.retrieve(pi.id);
    expect(failed.status).toBe('requires_payment_method');
    expect(failed.last_payment_error?.code).toBe('payment_intent_payment_attempt_failed');
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).status).toBe('failed');
    expect((await eventTypes()).slice(-2)).toEqual(['charge.failed', 'payment_intent.payment_failed']);
  });

  it('SEPA is refused where only cards are allowed', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', ...noRedirects });
    await expect(stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_sepaDebit_success_at' })).rejects.toMatchObject({ code: 'payment_intent_incompatible_payment_method' });
  });
});

describe('confirmation attempt limit (§1.3, configurable)', () => {
  it('cancels the PI once the configured number of confirmations is exceeded', async () => {
    const e2 = await withEmulator({ maxConfirmationAttempts: 2 });
    try {
      const s = stripeFor(e2, freshKey());
      const pi = await s.paymentIntents.create({ amount: 1000, currency: 'eur', ...noRedirects });
      for (let i = 0; i < 2; i++) await expect(s.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_chargeDeclined' })).rejects.toMatchObject({ statusCode: 402 });
      await expect(s.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' })).rejects.toMatchObject({ statusCode: 400 });
      expect((await s.paymentIntents.retrieve(pi.id)).status).toBe('canceled');
    } finally {
      await e2.close();
    }
  });
});
