import Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, webhookReceiver, withEmulator } from './helpers';

let emu: RunningEmulator;
let key: string;
let stripe: Stripe;
const verifier = new Stripe('sk_test_verifier');
const noRedirects = { automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };

beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(() => emu.close());
beforeEach(() => {
  key = freshKey();
  stripe = stripeFor(emu, key);
});
afterEach(() => expect(emu.errors()).toEqual([]));

async function onboardedExpress(): Promise<Stripe.Account> {
  const acct = await stripe.accounts.create({ type: 'express', country: 'DE', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
  await raw(emu, 'POST', `/_emulator/accounts/${acct.id}/complete_onboarding`, '');
  return stripe.accounts.retrieve(acct.id);
}

describe('accounts (§9.1, §9.3)', () => {
  it('creates accounts with requirements; providing them enables charges', async () => {
    const acct = await stripe.accounts.create({ type: 'custom', country: 'US', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
    expect(acct).toMatchObject({ type: 'custom', charges_enabled: false, payouts_enabled: false, details_submitted: false });
    expect(acct.requirements?.currently_due).toEqual(expect.arrayContaining(['business_type', 'external_account', 'tos_acceptance.date']));
    expect(acct.capabilities).toEqual({ card_payments: 'inactive', transfers: 'inactive' });
    const partial = await stripe.accounts.update(acct.id, { business_type: 'individual', individual: { first_name: 'Ada' } });
    expect(partial.requirements?.currently_due).not.toContain('business_type');
    expect(partial.charges_enabled).toBe(false);
    const done = await stripe.accounts.update(acct.id, {
      business_profile: { url: 'https://ada.example.com' },
      tos_acceptance: { date: 1_700_000_000, ip: '127.0.0.1' },
      external_account: 'btok_us_verified',
    });
    expect(done).toMatchObject({ charges_enabled: true, payouts_enabled: true, details_submitted: true, capabilities: { card_payments: 'active', transfers: 'active' } });
    expect(done.requirements?.disabled_reason).toBeNull();
    expect((await stripe.accounts.list()).data.map((a) => a.id)).toEqual([acct.id]);
    expect((await stripe.accounts.del(acct.id)).deleted).toBe(true);
    await expect(stripe.accounts.retrieve(acct.id)).rejects.toMatchObject({ statusCode: 403 });
  });

  it('account links are single use; the onboarding page completes the account and returns', async () => {
    const acct = await stripe.accounts.create({ type: 'standard' });
    const link = await stripe.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url: 'https://platform.test/refresh', return_url: 'https://platform.test/return' });
    expect(link.expires_at - link.created).toBe(300);
    const page = await raw(emu, 'GET', new URL(link.url).pathname);
    expect(page.text).toContain('Complete onboarding');
    const again = await raw(emu, 'GET', new URL(link.url).pathname);
    expect(again.headers.location).toBe('https://platform.test/refresh');
    const done = await raw(emu, 'POST', `${new URL(link.url).pathname}/complete`, '');
    expect(done.headers.location).toBe('https://platform.test/return');
    expect((await stripe.accounts.retrieve(acct.id)).details_submitted).toBe(true);
    await expect(stripe.accountLinks.create({ account: acct.id, type: 'account_update', return_url: 'https://platform.test/r' })).rejects.toMatchObject({ param: 'type' });
  });

  it('login links only for Express accounts', async () => {
    const express = await stripe.accounts.create({ type: 'express' });
    const link = await stripe.accounts.createLoginLink(express.id);
    expect(link.url).toContain(express.id);
    const std = await stripe.accounts.create({ type: 'standard' });
    await expect(stripe.accounts.createLoginLink(std.id)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('Stripe-Account to a foreign account is refused', async () => {
    const other = stripeFor(emu, freshKey());
    const acct = await other.accounts.create({ type: 'express' });
    await expect(stripe.customers.list({}, { stripeAccount: acct.id })).rejects.toMatchObject({ statusCode: 403, type: 'StripePermissionError', code: 'account_invalid' });
  });

  it('account.updated reaches the platform Connect endpoint with `account`', async () => {
    const rx = await webhookReceiver();
    try {
      const we = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['account.updated', 'capability.updated'], connect: true });
      const acct = await onboardedExpress();
      await emu.flushWebhooks();
      const events = rx.received.map((r) => verifier.webhooks.constructEvent(r.body, r.signature, we.secret as string));
      expect(events.map((e) => e.type)).toEqual(['account.updated', 'capability.updated', 'capability.updated']);
      expect(events.every((e) => e.account === acct.id)).toBe(true);
    } finally {
      await rx.close();
    }
  });
});

describe('charges with Connect (§9.4)', () => {
  it('direct charge with Stripe-Account: the PI lives on the connected account, the fee on the platform', async () => {
    const acct = await onboardedExpress();
    const pi = await stripe.paymentIntents.create(
      { amount: 10000, currency: 'eur', application_fee_amount: 500, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects },
      { stripeAccount: acct.id },
    );
    expect(pi.status).toBe('succeeded');
    await expect(stripe.paymentIntents.retrieve(pi.id)).rejects.toMatchObject({ statusCode: 404 });
    const ch = await stripe.charges.retrieve(pi.latest_charge as string, {}, { stripeAccount: acct.id });
    const fees = await stripe.applicationFees.list();
    expect(fees.data).toHaveLength(1);
    expect(fees.data[0]).toMatchObject({ id: ch.application_fee, amount: 500, account: acct.id, charge: ch.id });
    const events = await stripe.events.list({}, { stripeAccount: acct.id });
    expect(events.data.every((e) => e.account === acct.id)).toBe(true);
    const refund = await stripe.refunds.create({ payment_intent: pi.id, refund_application_fee: true }, { stripeAccount: acct.id });
    expect(refund.status).toBe('succeeded');
    expect((await stripe.applicationFees.retrieve(ch.application_fee as string)).amount_refunded).toBe(500);
  });

  it('destination charge creates a transfer; reverse_transfer pulls it back proportionally', async () => {
    const acct = await onboardedExpress();
    const pi = await stripe.paymentIntents.create({
      amount: 10000, currency: 'eur', transfer_data: { destination: acct.id }, application_fee_amount: 1000,
      payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects,
    });
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    const tr = await stripe.transfers.retrieve(ch.transfer as string);
    // The full amount is transferred; the application fee comes back to the platform (destination-charges docs).
    expect(tr).toMatchObject({ amount: 10000, destination: acct.id, source_transaction: ch.id });
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 5000, reverse_transfer: true });
    expect(refund.transfer_reversal).toMatch(/^trr_/);
    expect((await stripe.transfers.retrieve(tr.id)).amount_reversed).toBe(5000);
  });

  it('destination must be a connected account of this platform', async () => {
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur', transfer_data: { destination: 'acct_nope' } })).rejects.toMatchObject({ param: 'transfer_data[destination]' });
  });

  it('separate charges and transfers, reversals, balance and payouts', async () => {
    const acct = await onboardedExpress();
    const pi = await stripe.paymentIntents.create({ amount: 20000, currency: 'eur', transfer_group: 'ORDER-9', payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
    const tr = await stripe.transfers.create({ amount: 7000, currency: 'eur', destination: acct.id, transfer_group: 'ORDER-9', source_transaction: pi.latest_charge as string });
    expect((await stripe.transfers.list({ transfer_group: 'ORDER-9' })).data.map((t) => t.id)).toEqual([tr.id]);
    const rev = await stripe.transfers.createReversal(tr.id, { amount: 2000 });
    expect(rev.amount).toBe(2000);
    const connectedBalance = await stripe.balance.retrieve({}, { stripeAccount: acct.id });
    expect(connectedBalance.available).toEqual([expect.objectContaining({ currency: 'eur', amount: 5000 })]);
    const platformBalance = await stripe.balance.retrieve();
    const fee = Math.floor((20000 * 29 + 500) / 1000) + 30;
    expect(platformBalance.available[0]?.amount).toBe(20000 - fee - 7000 + 2000);
    await expect(stripe.transfers.create({ amount: 10_000_000, currency: 'eur', destination: acct.id })).rejects.toMatchObject({ code: 'balance_insufficient' });
    const po = await stripe.payouts.create({ amount: 1000, currency: 'eur' }, { stripeAccount: acct.id });
    expect(po.status).toBe('pending');
    emu.runPending();
    expect((await stripe.payouts.retrieve(po.id, {}, { stripeAccount: acct.id })).status).toBe('paid');
    const po2 = await stripe.payouts.create({ amount: 1000, currency: 'eur' }, { stripeAccount: acct.id });
    const failed = await raw(emu, 'POST', `/_emulator/payouts/${po2.id}/fail`, 'failure_code=account_closed');
    expect(failed.json).toMatchObject({ status: 'failed', failure_code: 'account_closed' });
    await expect(stripe.payouts.create({ amount: 10_000_000, currency: 'eur' }, { stripeAccount: acct.id })).rejects.toMatchObject({ code: 'balance_insufficient' });
  });

  it('transfers need the transfers capability on the destination', async () => {
    const acct = await stripe.accounts.create({ type: 'express' });
    await expect(stripe.transfers.create({ amount: 100, currency: 'eur', destination: acct.id })).rejects.toMatchObject({ code: 'insufficient_capabilities_for_transfer' });
  });
});

describe('OAuth (§9.2)', () => {
  it('authorize page → code → token exchange → Stripe-Account calls → deauthorize', async () => {
    const { clientId } = emu.keysFor(key);
    const page = await raw(emu, 'GET', `/oauth/authorize?response_type=code&client_id=${clientId}&scope=read_write&state=csrf-1&redirect_uri=${encodeURIComponent('https://platform.test/oauth')}`);
    expect(page.text).toContain('Connect my account');
    const decision = await raw(emu, 'POST', '/oauth/authorize', `client_id=${clientId}&redirect_uri=${encodeURIComponent('https://platform.test/oauth')}&state=csrf-1&scope=read_write&decision=allow`);
    const back = new URL(decision.headers.location as string);
    expect(back.searchParams.get('state')).toBe('csrf-1');
    const code = back.searchParams.get('code') as string;
    expect(code).toMatch(/^ac_/);
    const token = await stripe.oauth.token({ grant_type: 'authorization_code', code });
    expect(token).toMatchObject({ token_type: 'bearer', scope: 'read_write', livemode: false });
    expect(token.stripe_user_id).toMatch(/^acct_/);
    await expect(stripe.oauth.token({ grant_type: 'authorization_code', code })).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);
    const customer = await stripe.customers.create({}, { stripeAccount: token.stripe_user_id as string });
    const viaToken = stripeFor(emu, token.access_token as string);
    expect((await viaToken.customers.retrieve(customer.id)).id).toBe(customer.id);
    const rx = await webhookReceiver();
    try {
      const we = await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['account.application.deauthorized'], connect: true });
      const deauth = await stripe.oauth.deauthorize({ client_id: clientId, stripe_user_id: token.stripe_user_id as string });
      expect(deauth.stripe_user_id).toBe(token.stripe_user_id);
      await emu.flushWebhooks();
      const event = verifier.webhooks.constructEvent((rx.received[0] as { body: string }).body, (rx.received[0] as { signature: string }).signature, we.secret as string);
      expect(event).toMatchObject({ type: 'account.application.deauthorized', account: token.stripe_user_id, data: { object: { object: 'application', id: clientId } } });
    } finally {
      await rx.close();
    }
    await expect(stripe.customers.list({}, { stripeAccount: token.stripe_user_id as string })).rejects.toMatchObject({ statusCode: 403 });
  });

  it('deny redirects with access_denied; unknown grant types are refused', async () => {
    const { clientId } = emu.keysFor(key);
    const denied = await raw(emu, 'POST', '/oauth/authorize', `client_id=${clientId}&redirect_uri=${encodeURIComponent('https://platform.test/oauth')}&state=s&decision=deny`);
    const back = new URL(denied.headers.location as string);
    expect(back.searchParams.get('error')).toBe('access_denied');
    await expect(stripe.oauth.token({ grant_type: 'password' as never, code: 'x' })).rejects.toMatchObject({ type: 'StripeUnsupportedGrantTypeError' });
  });

  it("another platform's code is not exchangeable", async () => {
    const { clientId } = emu.keysFor(key);
    const decision = await raw(emu, 'POST', '/oauth/authorize', `client_id=${clientId}&redirect_uri=${encodeURIComponent('https://p.test/o')}&decision=allow`);
    const code = new URL(decision.headers.location as string).searchParams.get('code') as string;
    await expect(stripeFor(emu, freshKey()).oauth.token({ grant_type: 'authorization_code', code })).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidGrantError);
  });
});

describe('payment method domains (§8.1)', () => {
  it('create, list by domain, duplicate refused, validate flips Apple Pay once verification passes', async () => {
    await raw(emu, 'POST', '/_emulator/apple_pay_verification', 'domain_name=shop.example.com&passes=false');
    const d = await stripe.paymentMethodDomains.create({ domain_name: 'shop.example.com' });
    expect(d).toMatchObject({ domain_name: 'shop.example.com', enabled: true, apple_pay: { status: 'inactive' }, google_pay: { status: 'active' }, link: { status: 'active' } });
    expect(d.apple_pay.status_details?.error_message).toMatch(/apple-developer-merchantid-domain-association/);
    await expect(stripe.paymentMethodDomains.create({ domain_name: 'shop.example.com' })).rejects.toMatchObject({ statusCode: 400, param: 'domain_name' });
    expect((await stripe.paymentMethodDomains.list({ domain_name: 'shop.example.com' })).data.map((x) => x.id)).toEqual([d.id]);
    expect((await stripe.paymentMethodDomains.validate(d.id)).apple_pay.status).toBe('inactive');
    await raw(emu, 'POST', '/_emulator/apple_pay_verification', 'domain_name=shop.example.com&passes=true');
    expect((await stripe.paymentMethodDomains.validate(d.id)).apple_pay.status).toBe('active');
    expect((await stripe.paymentMethodDomains.update(d.id, { enabled: false })).enabled).toBe(false);
    expect((await stripe.paymentMethodDomains.list({ enabled: true })).data).toHaveLength(0);
  });

  it('domains are scoped per account (Stripe-Account for direct charges)', async () => {
    const acct = await onboardedExpress();
    await stripe.paymentMethodDomains.create({ domain_name: 'tickets.example.org' }, { stripeAccount: acct.id });
    expect((await stripe.paymentMethodDomains.list()).data).toHaveLength(0);
    expect((await stripe.paymentMethodDomains.list({}, { stripeAccount: acct.id })).data).toHaveLength(1);
  });

  it('duplicates can return the existing domain when configured (§13.10)', async () => {
    const e2 = await withEmulator({ duplicatePaymentMethodDomain: 'return_existing' });
    try {
      const s = stripeFor(e2);
      const a = await s.paymentMethodDomains.create({ domain_name: 'dup.example.com' });
      const b = await s.paymentMethodDomains.create({ domain_name: 'dup.example.com' });
      expect(b.id).toBe(a.id);
    } finally {
      await e2.close();
    }
  });
});

describe('capabilities and legacy Apple Pay domains', () => {
  it('lists and requests capabilities', async () => {
    const acct = await onboardedExpress();
    expect((await stripe.accounts.listCapabilities(acct.id)).data.map((c) => [c.id, c.status])).toEqual([['card_payments', 'active'], ['transfers', 'active']]);
    const added = await stripe.accounts.updateCapability(acct.id, 'sepa_debit_payments', { requested: true });
    expect(added).toMatchObject({ id: 'sepa_debit_payments', status: 'active', requested: true });
    expect((await stripe.accounts.retrieveCapability(acct.id, 'transfers')).status).toBe('active');
  });

  it('registers Apple Pay domains (legacy API) only when verification passes', async () => {
    const d = await stripe.applePayDomains.create({ domain_name: 'legacy.example.com' });
    expect(d).toMatchObject({ object: 'apple_pay_domain', domain_name: 'legacy.example.com' });
    expect(d.id).toMatch(/^apwc_/);
    expect((await stripe.applePayDomains.list()).data).toHaveLength(1);
    expect((await stripe.applePayDomains.del(d.id)).deleted).toBe(true);
    await raw(emu, 'POST', '/_emulator/apple_pay_verification', 'domain_name=broken.example.com&passes=false');
    await expect(stripe.applePayDomains.create({ domain_name: 'broken.example.com' })).rejects.toMatchObject({ param: 'domain_name' });
  });
});

describe('expiry of links and codes (§13.5)', () => {
  it('an account link past its lifetime sends the user to refresh_url; an old OAuth code is refused', async () => {
    const e2 = await withEmulator({ accountLinkTtlSeconds: 60, oauthCodeTtlSeconds: 60 });
    try {
      const key2 = freshKey();
      const s = stripeFor(e2, key2);
      const acct = await s.accounts.create({ type: 'express' });
      const link = await s.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url: 'https://p.test/refresh', return_url: 'https://p.test/return' });
      expect(link.expires_at - link.created).toBe(60);
      const { clientId } = e2.keysFor(key2);
      const decision = await raw(e2, 'POST', '/oauth/authorize', `client_id=${clientId}&redirect_uri=${encodeURIComponent('https://p.test/o')}&decision=allow`);
      const code = new URL(decision.headers.location as string).searchParams.get('code') as string;
      e2.advanceClock(61);
      expect((await raw(e2, 'GET', new URL(link.url).pathname)).headers.location).toBe('https://p.test/refresh');
      await expect(s.oauth.token({ grant_type: 'authorization_code', code })).rejects.toMatchObject({ type: 'StripeInvalidGrantError', message: expect.stringContaining('expired') });
    } finally {
      await e2.close();
    }
  });
});

describe('smaller endpoints', () => {
  it('GET /v1/account returns the key account, or the Stripe-Account one', async () => {
    const me = await stripe.accounts.retrieveCurrent();
    expect(me).toMatchObject({ id: emu.keysFor(key).account, charges_enabled: true });
    const acct = await stripe.accounts.create({ type: 'express' });
    expect((await stripe.accounts.retrieveCurrent({}, { stripeAccount: acct.id })).id).toBe(acct.id);
  });

  it('charge and refund updates, refund cancel refusal, balance transactions, payouts list and cancel, fee refunds', async () => {
    const acct = await onboardedExpress();
    const pi = await stripe.paymentIntents.create({ amount: 10000, currency: 'eur', application_fee_amount: 700, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects }, { stripeAccount: acct.id });
    const ch = await stripe.charges.update(pi.latest_charge as string, { metadata: { note: 'n' }, description: 'd' }, { stripeAccount: acct.id });
    expect(ch).toMatchObject({ metadata: { note: 'n' }, description: 'd' });
    const re = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 }, { stripeAccount: acct.id });
    expect((await stripe.refunds.update(re.id, { metadata: { r: '1' } }, { stripeAccount: acct.id })).metadata).toEqual({ r: '1' });
    await expect(stripe.refunds.cancel(re.id, {}, { stripeAccount: acct.id })).rejects.toMatchObject({ statusCode: 400 });
    const txns = await stripe.balanceTransactions.list({ type: 'charge' }, { stripeAccount: acct.id });
    expect(txns.data).toHaveLength(1);
    expect(await stripe.balanceTransactions.retrieve(txns.data[0]?.id as string, {}, { stripeAccount: acct.id })).toMatchObject({ amount: 10000, type: 'charge', fee: 320 });
    const po = await stripe.payouts.create({ amount: 500, currency: 'eur' }, { stripeAccount: acct.id });
    expect((await stripe.payouts.list({ status: 'pending' }, { stripeAccount: acct.id })).data.map((p) => p.id)).toEqual([po.id]);
    expect((await stripe.payouts.cancel(po.id, {}, { stripeAccount: acct.id })).status).toBe('canceled');
    const fee = (await stripe.applicationFees.list()).data[0] as Stripe.ApplicationFee;
    const feeRefund = await stripe.applicationFees.createRefund(fee.id, { amount: 200 });
    expect(feeRefund).toMatchObject({ object: 'fee_refund', amount: 200, fee: fee.id });
    expect((await stripe.applicationFees.retrieve(fee.id)).amount_refunded).toBe(200);
    await expect(stripe.applicationFees.createRefund(fee.id, { amount: 10_000 })).rejects.toMatchObject({ param: 'amount' });
  });
});
